package dev.ringside.reactor.poll;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.contract.ReactorFixture;
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
import org.junit.jupiter.api.Assumptions;

/** The contract suite's view of {@link EpollReactor}: real pipes and real files in a temporary directory. */
final class EpollFixture implements ReactorFixture<EpollReactor> {

    /** Pipe write ends by source, so that {@link #fill} can reach the descriptor. */
    private final Map<IoSource, Integer> writeEnds = new IdentityHashMap<>();

    static void assumeAvailable() {
        Assumptions.assumeTrue(EpollReactor.isAvailable(),
                () -> "epoll is unavailable here: " + EpollReactor.unavailabilityCause().orElse(""));
    }

    @Override
    public RawExecutor<EpollReactor> newExecutor() throws IOException {
        assumeAvailable();
        return RawExecutor.create(EpollReactor::new);
    }

    @Override
    public PipeEnds newPipe(RawExecutor<EpollReactor> executor) throws IOException {
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource writeEnd = executor.register(pipe.writeEnd());
        writeEnds.put(writeEnd, writeFd);
        return new PipeEnds(executor.register(pipe.readEnd()), writeEnd);
    }

    @Override
    public FileUnderTest newFile(RawExecutor<EpollReactor> executor, byte[] contents) throws IOException {
        Path path = Files.createTempFile("ringside-epoll", ".bin");
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
    static long fillWithoutBlocking(int fd) {
        long total = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment iov = arena.allocate(LibC.IOVEC);
            for (long size : new long[] {4096, 1}) {
                MemorySegment chunk = arena.allocate(size);
                iov.set(JAVA_LONG, 0, chunk.address());
                iov.set(JAVA_LONG, 8, size);
                long written;
                while ((written = Syscalls.pwritev2(fd, iov.address(), 1, -1, Linux.RWF_NOWAIT)) > 0) {
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
