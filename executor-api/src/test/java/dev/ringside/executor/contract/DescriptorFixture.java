package dev.ringside.executor.contract;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.ReactorFactory;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Assumptions;

/**
 * The contract suite's fixture for a reactor of real descriptors: real pipes, and real files in the
 * temporary directory. A reactor's test names its factory and its availability probe; a reactor that
 * is unavailable here makes the tests skip, saying why.
 */
public class DescriptorFixture<R extends Reactor> implements ReactorFixture<R> {

    /** x86_64 and aarch64 numbers of pwritev2(2), which libc binds only in newer versions. */
    private static final long SYS_PWRITEV2 = Linux.AARCH64 ? 287 : 328;

    private final String name;
    private final ReactorFactory<R> factory;
    private final Supplier<Optional<String>> unavailabilityCause;
    private final boolean loopMayMoveBetweenThreads;
    /** Pipe write ends by source, so that {@link #fill} can reach the descriptor. */
    private final Map<IoSource, Integer> writeEnds = new IdentityHashMap<>();

    public DescriptorFixture(String name, ReactorFactory<R> factory, Supplier<Optional<String>> unavailabilityCause) {
        this(name, factory, unavailabilityCause, true);
    }

    /**
     * A fixture whose reactor, if {@code loopMayMoveBetweenThreads} is false, binds the loop to the
     * first thread that runs it; see {@link ReactorFixture#loopMayMoveBetweenThreads()}.
     */
    public DescriptorFixture(String name, ReactorFactory<R> factory, Supplier<Optional<String>> unavailabilityCause,
                             boolean loopMayMoveBetweenThreads) {
        this.name = name;
        this.factory = factory;
        this.unavailabilityCause = unavailabilityCause;
        this.loopMayMoveBetweenThreads = loopMayMoveBetweenThreads;
    }

    @Override
    public boolean loopMayMoveBetweenThreads() {
        return loopMayMoveBetweenThreads;
    }

    /** Skips the calling test, saying why, when the reactor cannot work here. */
    public void assumeAvailable() {
        Optional<String> cause = unavailabilityCause.get();
        Assumptions.assumeTrue(cause.isEmpty(), () -> name + " is unavailable here: " + cause.orElse(""));
    }

    @Override
    public RawExecutor<R> newExecutor(UnaryOperator<RawExecutor.Builder<R>> settings) throws IOException {
        assumeAvailable();
        return settings.apply(RawExecutor.builder(factory)).build();
    }

    @Override
    public PipeEnds newPipe(RawExecutor<R> executor) throws IOException {
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource writeEnd = executor.register(pipe.writeEnd());
        writeEnds.put(writeEnd, writeFd);
        return new PipeEnds(executor.register(pipe.readEnd()), writeEnd);
    }

    @Override
    public FileUnderTest newFile(RawExecutor<R> executor, byte[] contents) throws IOException {
        Path path = Files.createTempFile("ringside-" + name, ".bin");
        Files.write(path, contents);
        IoSource source = executor.register(Fd.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE));
        return new FileUnderTest() {
            @Override
            public IoSource source() {
                return source;
            }

            @Override
            public byte[] contents() throws IOException {
                return Files.readAllBytes(path);
            }

            @Override
            public void close() {
                source.close();
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        };
    }

    /** Fills the pipe with per-call non-blocking writes: the descriptor's flags are never touched. */
    @Override
    public void fill(PipeEnds pipe) {
        int fd = writeEnds.get(pipe.writeEnd());
        int flags = LibC.fcntl(fd, Linux.F_GETFL, 0);
        fillWithoutBlocking(fd);
        if (LibC.fcntl(fd, Linux.F_GETFL, 0) != flags) {
            throw new AssertionError("filling changed the descriptor's flags");
        }
    }

    /**
     * Writes to {@code fd} with {@code pwritev2(RWF_NOWAIT)} until it reports {@code EAGAIN}, first in
     * pages, then byte by byte; returns the bytes written.
     */
    public static long fillWithoutBlocking(int fd) {
        long total = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(LibC.IOVEC);
            for (long size : new long[] {4096, 1}) {
                MemorySegment chunk = arena.allocate(size);
                iov.set(JAVA_LONG, 0, chunk.address());
                iov.set(JAVA_LONG, 8, size);
                long written;
                while ((written = LibC.syscall(SYS_PWRITEV2, fd, iov.address(), 1, -1, 0, Linux.RWF_NOWAIT)) > 0) {
                    total += written;
                }
                if (written != -Errno.EAGAIN) {
                    throw new AssertionError("filling fd " + fd + " failed: " + Errno.symbol((int) -written));
                }
            }
        }
        return total;
    }
}
