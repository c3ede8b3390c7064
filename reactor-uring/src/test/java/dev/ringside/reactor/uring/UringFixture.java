package dev.ringside.reactor.uring;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.contract.ReactorFixture;
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

/** The contract suite's view of {@link UringReactor}: real pipes and real files in a temporary directory. */
final class UringFixture implements ReactorFixture<UringReactor> {

    /** Pipe write ends by source, so that {@link #fill} can reach the descriptor. */
    private final Map<IoSource, Integer> writeEnds = new IdentityHashMap<>();

    static void assumeAvailable() {
        Assumptions.assumeTrue(UringReactor.isAvailable(),
                () -> "io_uring is unavailable here: " + UringReactor.unavailabilityCause().orElse(""));
    }

    @Override
    public RawExecutor<UringReactor> newExecutor() throws IOException {
        assumeAvailable();
        return RawExecutor.create(UringReactor::new);
    }

    @Override
    public PipeEnds newPipe(RawExecutor<UringReactor> executor) throws IOException {
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource writeEnd = executor.register(pipe.writeEnd());
        writeEnds.put(writeEnd, writeFd);
        return new PipeEnds(executor.register(pipe.readEnd()), writeEnd);
    }

    @Override
    public FileUnderTest newFile(RawExecutor<UringReactor> executor, byte[] contents) throws IOException {
        Path path = Files.createTempFile("ringside-uring", ".bin");
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

    /** Writes without blocking until the pipe is full, then puts the descriptor back as it was. */
    @Override
    public void fill(PipeEnds pipe) {
        int fd = writeEnds.get(pipe.writeEnd());
        int flags = LibC.fcntl(fd, Linux.F_GETFL, 0);
        LibC.fcntl(fd, Linux.F_SETFL, flags | Linux.O_NONBLOCK);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(4096);
            while (LibC.write(fd, chunk, chunk.byteSize()) > 0) {
                // until EAGAIN
            }
            MemorySegment one = arena.allocate(1);
            while (LibC.write(fd, one, 1) > 0) {
                // the last bytes
            }
        } finally {
            LibC.fcntl(fd, Linux.F_SETFL, flags);
        }
    }
}
