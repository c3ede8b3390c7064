package dev.ringside.reactor.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Task;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** io_uring-specific behaviour, on the real kernel. */
class UringReactorTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void requireIoUring() {
        UringFixture.assumeReactorAvailable();
    }

    @Test
    void theRingOnlyRunsTheOpcodesTheReactorSubmits() throws IOException {
        Path target = dir.resolve("must-not-exist");
        try (UringReactor reactor = new UringReactor(); Arena arena = Arena.ofConfined()) {
            MemorySegment path = arena.allocateFrom(target.toString());
            int result = reactor.submitRawForTest(Uring.OP_OPENAT, Linux.AT_FDCWD, path.address(), 0644, 0,
                    Linux.O_CREAT | Linux.O_WRONLY | Linux.O_CLOEXEC);
            assertEquals(-Errno.EACCES, result, "a disallowed opcode fails with EACCES");
            int nop = reactor.submitRawForTest(Uring.OP_NOP, -1, 0, 0, 0, 0);
            assertEquals(0, nop, "an allowed opcode still runs");
        }
        assertTrue(Files.notExists(target), "the disallowed open never ran");
    }

    @Test
    void theGrantedSetupIsExposed() throws IOException {
        try (UringReactor reactor = UringReactor.builder().entries(16).build()) {
            assertEquals(16, reactor.sqEntries());
            assertEquals(32, reactor.cqEntries(), "the CQ is twice the SQ");
            assertTrue(reactor.setupFlags().contains("CQSIZE"), reactor.setupFlags());
        }
    }

    @Test
    void aBurstOfTenThousandOperationsOnASixteenEntryRingAllComplete() throws Exception {
        int count = 10_000;
        byte[] contents = new byte[count];
        for (int i = 0; i < count; i++) {
            contents[i] = (byte) (i * 31);
        }
        Path file = Files.write(dir.resolve("burst"), contents);
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().entries(16).factory());
             IoBuffer buffer = IoBuffer.allocate(count)) {
            IoSource source = executor.register(Fd.open(file, StandardOpenOption.READ));
            Task<Void> burst = executor.spawn(() -> {
                List<CompletableFuture<Integer>> reads = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    reads.add(source.read(i, buffer, new MemRegion(i, 1))); // 10,000 SQEs in one loop pass
                }
                return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new));
            });
            executor.runUntil(burst);
            assertArrayEquals(contents, buffer.toByteArray(), "every read completed with its own byte");
            assertEquals(1, buffer.refCount(), "every hold was released");
            assertEquals(0, executor.reactor().operationsInFlight());
            source.close();
        }
    }

    @Test
    void closingAnExecutorWithAThousandPendingReadsDrainsAndLeaksNothing() throws Exception {
        long descriptorsBefore = openDescriptors();
        List<IoBuffer> buffers = new ArrayList<>();
        List<CompletableFuture<Integer>> reads = new ArrayList<>();
        List<Fd.Pipe> pipes = new ArrayList<>();
        RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new);
        for (int i = 0; i < 500; i++) {
            Fd.Pipe pipe = Fd.pipe();
            pipes.add(pipe);
            IoSource readEnd = executor.register(pipe.readEnd());
            for (int j = 0; j < 2; j++) {
                IoBuffer buffer = IoBuffer.allocate(64);
                buffers.add(buffer);
                reads.add(readEnd.read(-1, buffer, new MemRegion(0, 64)));
            }
            readEnd.close(); // the reads hold the descriptor
        }
        executor.runUntil(executor.sleep(Duration.ofMillis(20)));
        assertEquals(1000, executor.reactor().operationsInFlight());
        Thread closer = Thread.ofPlatform().start(executor::close); // from a thread other than the loop's
        closer.join();
        assertTrue(executor.isTerminated());
        for (int i = 0; i < buffers.size(); i++) {
            assertTrue(reads.get(i).isCancelled());
            assertEquals(1, buffers.get(i).refCount(), "buffer " + i + " handed back once");
            buffers.get(i).close();
            assertTrue(buffers.get(i).isFreed());
        }
        pipes.forEach(pipe -> pipe.writeEnd().close());
        assertEquals(descriptorsBefore, openDescriptors(), "no descriptor leaks: ring, eventfd and pipes are closed");
    }

    @Test
    void eventfdPingPongBetweenTwoTasksKeepsOrder() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            IoSource ping = executor.register(Fd.eventfd(0, false));
            IoSource pong = executor.register(Fd.eventfd(0, false));
            int rounds = 200;
            List<Long> seen = new ArrayList<>();
            Task<Void> server = executor.spawn(() -> serve(ping, pong, rounds, seen));
            Task<Void> client = executor.spawn(() -> play(ping, pong, 1, rounds));
            executor.runUntil(CompletableFuture.allOf(server, client));
            for (int i = 0; i < rounds; i++) {
                assertEquals(i + 1L, seen.get(i));
            }
            ping.close();
            pong.close();
        }
    }

    private static CompletableFuture<Void> play(IoSource ping, IoSource pong, long value, int rounds) {
        if (value > rounds) {
            return CompletableFuture.completedFuture(null);
        }
        return ping.write(-1, counter(value))
                .thenCompose(n -> pong.read(-1, new byte[8]))
                .thenCompose(n -> play(ping, pong, value + 1, rounds));
    }

    private static CompletableFuture<Void> serve(IoSource ping, IoSource pong, int rounds, List<Long> seen) {
        if (seen.size() == rounds) {
            return CompletableFuture.completedFuture(null);
        }
        byte[] into = new byte[8];
        return ping.read(-1, into)
                .thenCompose(n -> {
                    seen.add(MemorySegment.ofArray(into).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                    return pong.write(-1, counter(1));
                })
                .thenCompose(n -> serve(ping, pong, rounds, seen));
    }

    private static byte[] counter(long value) {
        byte[] bytes = new byte[8];
        MemorySegment.ofArray(bytes).set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
        return bytes;
    }

    @Test
    void aSourceOfOneExecutorIsAwaitedByATaskOfAnother() throws Exception {
        RawExecutor<UringReactor> owner = RawExecutor.create(UringReactor::new);
        Thread ownerLoop = Thread.ofPlatform().name("owner-loop").start(owner::run);
        try (RawExecutor<UringReactor> other = RawExecutor.create(UringReactor::new)) {
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = owner.register(pipe.readEnd());
            IoSource writeEnd = owner.register(pipe.writeEnd());
            AtomicBoolean resumedOnOtherLoop = new AtomicBoolean();
            byte[] into = new byte[5];
            Task<Integer> task = other.spawn(() -> readEnd.read(-1, into)
                    .whenComplete((n, e) -> resumedOnOtherLoop.set(other.isLoopThread())));
            writeEnd.write(-1, "cross".getBytes());
            assertEquals(5, other.runUntil(task));
            assertArrayEquals("cross".getBytes(), into);
            assertTrue(resumedOnOtherLoop.get(), "the awaiting task resumes on its own loop");
            readEnd.close();
            writeEnd.close();
        } finally {
            owner.close();
            ownerLoop.join();
        }
    }

    @Test
    void aSingleIssuerRingWorksOnItsThreadAndIsWokenFromOthers() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor.builder().singleIssuer(true).factory())) {
            String flags = executor.reactor().setupFlags();
            assertTrue(flags.contains("SINGLE_ISSUER") && flags.contains("DEFER_TASKRUN"), flags);
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            byte[] into = new byte[3];
            CompletableFuture<Integer> read = readEnd.read(-1, into);
            Thread.ofPlatform().start(() -> writeEnd.write(-1, "one".getBytes())); // queued from another thread
            assertEquals(3, executor.runUntil(read));
            assertArrayEquals("one".getBytes(), into);
            CompletableFuture<String> answer = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> executor.execute(() -> answer.complete("woken")));
            assertEquals("woken", executor.runUntil(answer));
            readEnd.close();
            writeEnd.close();
        }
    }

    @Test
    void aStaleOrUnknownCompletionIsIgnored() throws IOException {
        try (UringReactor reactor = new UringReactor()) {
            reactor.completeForTest(0x0000_0007_0000_0003L, 5); // generation 7 of slot 3: never issued
            reactor.completeForTest(123_456L, -1);
            assertEquals(0, reactor.operationsInFlight());
        }
    }

    @Test
    void createDefaultPicksIoUringHere() throws IOException {
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(UringReactor.class, executor.reactor());
        }
    }

    static long openDescriptors() throws IOException {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }
}
