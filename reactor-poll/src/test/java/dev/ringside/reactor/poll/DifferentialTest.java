package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.fake.FakeFile;
import dev.ringside.executor.fake.FakePipe;
import dev.ringside.executor.fake.FakeReactor;
import dev.ringside.reactor.uring.UringReactor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same seeded, randomized script of operations over a file and a pipe, on the fake, io_uring and
 * epoll reactors: every observable result (counts, bytes, errors, final file contents) must be the
 * same. A failure names the seed; {@code -Dringside.differential.seed=N} replays one.
 */
class DifferentialTest {

    @TempDir
    Path dir;

    static List<Long> seeds() {
        String forced = System.getProperty("ringside.differential.seed");
        if (forced != null) {
            return List.of(Long.parseLong(forced));
        }
        long base = System.nanoTime();
        return List.of(base, base + 1, base + 2, base + 3, base + 4, base + 5);
    }

    /** One reactor's file and pipe. */
    private record World(RawExecutor<?> executor, IoSource file, IoSource pipeRead, IoSource pipeWrite,
                         ContentsReader contents) implements AutoCloseable {
        @Override
        public void close() {
            file.close();
            pipeRead.close();
            pipeWrite.close();
            executor.close();
        }
    }

    @FunctionalInterface
    private interface ContentsReader {
        byte[] read() throws IOException;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyReactorObservesTheSameResults(long seed) throws Exception {
        Assumptions.assumeTrue(UringReactor.isAvailable(), () -> "io_uring unavailable: " + UringReactor.unavailabilityCause());
        byte[] initial = new byte[256];
        new Random(seed).nextBytes(initial);
        List<String> fake, uring, epoll;
        try (World world = fakeWorld(initial)) {
            fake = run(world, seed);
        }
        try (World world = realWorld(RawExecutor.create(UringReactor::new), initial, "uring")) {
            uring = run(world, seed);
        }
        try (World world = realWorld(RawExecutor.create(EpollReactor::new), initial, "epoll")) {
            epoll = run(world, seed);
        }
        // The script must have exercised real work, not only failures.
        assertTrue(fake.stream().anyMatch(line -> line.matches("\\d+ op[23] [1-9]\\d*:[0-9a-f]+")), "file reads returned data");
        assertTrue(fake.stream().anyMatch(line -> line.matches("\\d+ op8 [1-9]\\d*:[0-9a-f]+")), "pipe reads returned data");
        assertTrue(fake.stream().anyMatch(line -> line.endsWith(" ESPIPE")) && fake.stream().anyMatch(line -> line.endsWith(" EBADF")));
        assertEquals(fake, uring, "io_uring differs from the fake reactor; replay with -Dringside.differential.seed=" + seed);
        assertEquals(fake, epoll, "epoll differs from the fake reactor; replay with -Dringside.differential.seed=" + seed);
    }

    private static World fakeWorld(byte[] initial) throws IOException {
        RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new);
        FakeFile file = executor.reactor().newFile(initial);
        FakePipe pipe = executor.reactor().newPipe(executor);
        return new World(executor, executor.reactor().open(executor, file), pipe.readEnd(), pipe.writeEnd(), file::contents);
    }

    private World realWorld(RawExecutor<?> executor, byte[] initial, String name) throws IOException {
        Path path = Files.write(dir.resolve(name), initial);
        Fd.Pipe pipe = Fd.pipe();
        return new World(executor, executor.register(Fd.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)),
                executor.register(pipe.readEnd()), executor.register(pipe.writeEnd()), () -> Files.readAllBytes(path));
    }

    /** Runs the script {@code seed} generates and returns what was observed, one line per step. */
    private static List<String> run(World world, long seed) throws IOException {
        Random random = new Random(seed);
        List<String> seen = new ArrayList<>();
        int pipeBytes = 0;
        for (int step = 0; step < 150; step++) {
            long offset = random.nextInt(4) == 0 ? IoSource.CURRENT_POSITION : random.nextInt(600);
            int length = 1 + random.nextInt(100);
            int choice = random.nextInt(11);
            CompletableFuture<?> operation = switch (choice) {
                case 0, 1 -> world.file().write(offset, randomBytes(random, length));
                case 2, 3 -> {
                    byte[] into = new byte[length];
                    yield world.file().read(offset, into).thenApply(n -> n + ":" + HexFormat.of().formatHex(into, 0, n));
                }
                case 4 -> world.file().punchHole(random.nextInt(600), length);
                case 5 -> world.file().writeZeroes(random.nextInt(600), length);
                case 6 -> random.nextBoolean() ? world.file().fsync() : world.file().fdatasync();
                case 7 -> {
                    if (pipeBytes + length > 4096) {
                        yield world.file().nop();
                    }
                    pipeBytes += length;
                    yield world.pipeWrite().write(IoSource.CURRENT_POSITION, randomBytes(random, length));
                }
                case 8 -> {
                    if (pipeBytes == 0) {
                        yield world.pipeRead().nop();
                    }
                    int ask = Math.min(length, pipeBytes);
                    pipeBytes -= ask;
                    byte[] into = new byte[ask];
                    yield world.pipeRead().read(IoSource.CURRENT_POSITION, into)
                            .thenApply(n -> n + ":" + HexFormat.of().formatHex(into, 0, n));
                }
                case 9 -> world.pipeRead().read(random.nextInt(10), new byte[4]); // ESPIPE: a pipe has no offsets
                default -> world.pipeWrite().read(IoSource.CURRENT_POSITION, new byte[4]); // EBADF: wrong end
            };
            seen.add(step + " op" + choice + " " + observe(world.executor(), operation));
        }
        seen.add("file " + HexFormat.of().formatHex(world.contents().read()));
        return seen;
    }

    private static String observe(RawExecutor<?> executor, CompletableFuture<?> operation) {
        try {
            return String.valueOf(executor.runUntil(operation));
        } catch (CompletionException e) {
            return e.getCause() instanceof ErrnoException errno ? errno.symbol() : e.getCause().toString();
        }
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
