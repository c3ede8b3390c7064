package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The registration and read policy of {@link EpollReactor} on real pipes and socket pairs: level-triggered
 * registrations kept across waits, wait-first reads, and no spinning on interests nobody waits for. Every
 * assertion counts calls (waits, epoll_ctl, attempts) or reads the epoll set; none measures time.
 */
class EpollReadinessPolicyTest extends TestWithCleanup {

    @BeforeAll
    static void requireEpoll() {
        EpollFixture.assumeReactorAvailable();
    }

    // ---------------------------------------------------------------- steady request/response

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pipe", "socketpair"})
    void steadyPingPongMakesNoEpollCtlAndAlmostNoWastedAttempts(String kind) throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        EpollReactor reactor = executor.reactor();
        PingPong pingPong = later(new PingPong(executor, kind));
        pingPong.startEcho();
        executor.runUntil(pingPong.drive(50)); // warm-up: the reads find EAGAIN once and turn wait-first
        assertTrue(EpollReactor.readsWaitFirst(pingPong.pongIn) && EpollReactor.readsWaitFirst(pingPong.pingIn),
                "request/response reads wait first");

        int ctl = reactor.ctlCalls(), waits = reactor.waitCalls();
        int attempts = reactor.attemptCalls(), wouldBlock = reactor.wouldBlockCalls();
        int roundTrips = 100;
        executor.runUntil(pingPong.drive(roundTrips));
        int ctlMade = reactor.ctlCalls() - ctl, waitsMade = reactor.waitCalls() - waits;
        int attemptsMade = reactor.attemptCalls() - attempts, wouldBlockMade = reactor.wouldBlockCalls() - wouldBlock;
        String counts = roundTrips + " round trips: " + ctlMade + " epoll_ctl, " + waitsMade + " waits, "
                + attemptsMade + " attempts (" + wouldBlockMade + " EAGAIN)";
        System.out.println("epoll " + kind + " ping-pong, " + counts);

        assertEquals(0, ctlMade, "registrations stay across waits: " + counts);
        // Two reads per round trip; a wait-first read probes at most every FIRST_PROBE-th time.
        assertTrue(wouldBlockMade <= 2 * roundTrips / EpollReactor.FIRST_PROBE, counts);
        // Two writes and two reads per round trip, each one call, plus the probes that found nothing.
        assertEquals(4 * roundTrips + wouldBlockMade, attemptsMade, counts);
        // One wait per direction of the round trip, a few more for runUntil's own passes.
        assertTrue(waitsMade <= 2 * roundTrips + 4, counts);
    }

    // ---------------------------------------------------------------- wait-first reads

    @Test
    void aWaitFirstReadOfAPipeThatAlreadyHoldsDataCompletes() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        EpollReactor reactor = executor.reactor();
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(pipe.writeEnd());
        turnWaitFirst(executor, readEnd, writeFd);

        // The registration is kept (no reader now): data written behind the loop's back is found.
        assertTrue(EpollReactorTest.registrations(reactor).containsKey(pipe.readEnd().intValue()));
        writeDirectly(writeFd, "kept");
        assertArrayEquals(bytes("kept"), readWaitingFirst(executor, readEnd, 4));

        // The registration is gone (the data found nobody reading and the interest was dropped): the
        // wait-first read re-adds it, and the ADD reports the data already there.
        writeDirectly(writeFd, "gone");
        runPasses(executor, 3);
        assertFalse(EpollReactorTest.registrations(reactor).containsKey(pipe.readEnd().intValue()),
                "the unused read interest was dropped");
        assertArrayEquals(bytes("gone"), readWaitingFirst(executor, readEnd, 4));
        assertTrue(EpollReactor.readsWaitFirst(readEnd), "no probe yet: still wait-first");
    }

    @Test
    void aProbeThatFindsDataTurnsReadsBackToAttemptFirst() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(pipe.writeEnd());
        turnWaitFirst(executor, readEnd, writeFd);

        int reads = 0;
        while (EpollReactor.readsWaitFirst(readEnd)) { // streaming now: the data is always there first
            assertTrue(++reads <= EpollReactor.FIRST_PROBE, "the first probe comes with read " + EpollReactor.FIRST_PROBE);
            String chunk = "s" + (100 + reads); // as long as the read that got EAGAIN: known to wait
            writeDirectly(writeFd, chunk);
            byte[] into = new byte[4];
            assertEquals(4, executor.runUntil(readEnd.read(-1, into)));
            assertArrayEquals(bytes(chunk), into);
        }
        assertEquals(EpollReactor.FIRST_PROBE, reads);
        int attempts = executor.reactor().attemptCalls();
        writeDirectly(writeFd, "next");
        CompletableFuture<Integer>[] read = readFromTheLoop(executor, readEnd, new byte[4]);
        assertEquals(0, executor.reactor().operationsInFlight(), "attempt-first: completed inside start");
        assertEquals(4, executor.runUntil(read[0]));
        assertEquals(attempts + 1, executor.reactor().attemptCalls());
    }

    @Test
    void aReadOfAShapeNotKnownToWaitStillAttemptsFirst() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(pipe.writeEnd());
        turnWaitFirst(executor, readEnd, writeFd); // known to wait: reads of at least 4 bytes, one buffer
        IoBuffer buffer = later(IoBuffer.allocate(8));
        // read(2) of zero bytes returns 0 at once, even from an empty pipe; waiting first would hang it.
        assertEquals(0, executor.runUntil(readEnd.read(-1, buffer, new MemRegion(0, 0))));
        assertTrue(EpollReactor.readsWaitFirst(readEnd));
    }

    // ---------------------------------------------------------------- no spinning

    /** A pipe whose read end's reads wait first, on an executor of its own. */
    private record WaitFirstPipe(RawExecutor<EpollReactor> executor, EpollReactor reactor, IoSource readEnd,
                                 int readFd, int writeFd) {
    }

    private WaitFirstPipe waitFirstPipe() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue(), writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(pipe.writeEnd());
        turnWaitFirst(executor, readEnd, writeFd);
        return new WaitFirstPipe(executor, executor.reactor(), readEnd, readFd, writeFd);
    }

    @Test
    void dataForASourceWithNoReaderDoesNotMakeTheLoopSpin() throws Exception {
        WaitFirstPipe pipe = waitFirstPipe();
        RawExecutor<EpollReactor> executor = pipe.executor();
        EpollReactor reactor = pipe.reactor();
        IoSource readEnd = pipe.readEnd();
        int readFd = pipe.readFd(), writeFd = pipe.writeFd();
        assertEquals(Linux.EPOLLIN, EpollReactorTest.registrations(reactor).get(readFd) & Linux.EPOLLIN, "kept");

        writeDirectly(writeFd, "unread"); // readable for good, level-triggered, and nobody reads
        int waits = reactor.waitCalls();
        for (int i = 0; i < 10; i++) {
            executor.runUntil(executor.sleep(Duration.ofMillis(2))); // ten timed waits, each one pass if idle
        }
        int waitsMade = reactor.waitCalls() - waits;
        assertTrue(waitsMade <= 10 + 3, waitsMade + " waits for ten sleeps: an unused level-triggered interest spins");
        assertFalse(EpollReactorTest.registrations(reactor).containsKey(readFd), "the event dropped the interest");
        assertArrayEquals(bytes("unread"), readWaitingFirst(executor, readEnd, 6), "the data is still there for a reader");
    }

    @Test
    void cancellingTheLastReaderOfAKeptRegistrationDisarmsIt() throws Exception {
        WaitFirstPipe pipe = waitFirstPipe();
        RawExecutor<EpollReactor> executor = pipe.executor();
        EpollReactor reactor = pipe.reactor();
        IoSource readEnd = pipe.readEnd();
        int readFd = pipe.readFd(), writeFd = pipe.writeFd();

        IoBuffer buffer = later(IoBuffer.allocate(8));
        int ctl = reactor.ctlCalls();
        CompletableFuture<Integer> read = readEnd.read(-1, buffer, new MemRegion(0, 8));
        runPasses(executor, 2);
        assertFalse(read.isDone());
        assertEquals(ctl, reactor.ctlCalls(), "the kept registration served the new reader without a call");
        assertTrue(read.cancel(false));
        runPasses(executor, 2);
        assertEquals(1, buffer.refCount(), "the cancelled read released its memory");
        assertFalse(EpollReactorTest.registrations(reactor).containsKey(readFd), "cancelling the last reader deleted it");

        writeDirectly(writeFd, "late");
        int waits = reactor.waitCalls();
        runPasses(executor, 10);
        assertTrue(reactor.waitCalls() - waits <= 10 + 3, "nothing armed, nothing to spin on");
        assertEquals(0, reactor.operationsInFlight());
    }

    @Test
    void aWriteInterestIsNotKeptAfterTheLastWriter() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        EpollReactor reactor = executor.reactor();
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));
        EpollFixture.fillWithoutBlocking(writeFd);
        CompletableFuture<Integer> write = writeEnd.write(-1, bytes("more"));
        runPasses(executor, 2);
        assertFalse(write.isDone());
        assertEquals(Linux.EPOLLOUT, EpollReactorTest.registrations(reactor).get(writeFd) & Linux.EPOLLOUT);
        byte[] sink = new byte[1 << 16];
        while (!write.isDone()) {
            executor.runUntil(readEnd.read(-1, sink));
        }
        int waits = reactor.waitCalls();
        runPasses(executor, 10);
        assertTrue(reactor.waitCalls() - waits <= 10 + 3, "a writable pipe nobody writes to must not end waits");
        assertFalse(EpollReactorTest.registrations(reactor).containsKey(writeFd));
    }

    // ---------------------------------------------------------------- helpers

    /** One read of 4 bytes that waits (the pipe is empty), then gets its data; the registration stays. */
    private static void readAfterAWait(RawExecutor<EpollReactor> executor, IoSource readEnd, int writeFd) {
        byte[] into = new byte[4];
        CompletableFuture<Integer> read = readEnd.read(-1, into);
        runPasses(executor, 2);
        assertFalse(read.isDone());
        writeDirectly(writeFd, "wake");
        assertEquals(4, executor.runUntil(read));
    }

    /** {@link #readAfterAWait}: its EAGAIN turns the source's reads of at least 4 bytes wait-first. */
    private static void turnWaitFirst(RawExecutor<EpollReactor> executor, IoSource readEnd, int writeFd) {
        assertFalse(EpollReactor.readsWaitFirst(readEnd));
        readAfterAWait(executor, readEnd, writeFd);
        assertTrue(EpollReactor.readsWaitFirst(readEnd), "EAGAIN turned reads wait-first");
    }

    /** Reads {@code length} bytes with a read that must queue without an attempt; returns them. */
    private static byte[] readWaitingFirst(RawExecutor<EpollReactor> executor, IoSource source, int length) {
        EpollReactor reactor = executor.reactor();
        int attempts = reactor.attemptCalls();
        byte[] into = new byte[length];
        CompletableFuture<Integer>[] read = readFromTheLoop(executor, source, into);
        assertEquals(1, reactor.operationsInFlight(), "the read queued for readiness");
        assertEquals(attempts, reactor.attemptCalls(), "without an attempt");
        assertEquals(length, executor.runUntil(read[0]));
        assertEquals(attempts + 1, reactor.attemptCalls(), "one attempt, after readiness");
        return into;
    }

    /** Starts a read on the loop thread (so it reaches the reactor at once) and returns it. */
    @SuppressWarnings("unchecked")
    private static CompletableFuture<Integer>[] readFromTheLoop(RawExecutor<?> executor, IoSource source, byte[] into) {
        CompletableFuture<Integer>[] read = new CompletableFuture[1];
        executor.runUntil(executor.spawn(() -> {
            read[0] = source.read(-1, into);
            return CompletableFuture.completedFuture(null);
        }));
        return read;
    }

    private static void runPasses(RawExecutor<?> executor, int sleeps) {
        for (int i = 0; i < sleeps; i++) {
            executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        }
    }

    /** Writes straight to the kernel: only epoll can tell the loop. */
    private static void writeDirectly(int fd, String text) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocateFrom(text);
            assertEquals(text.length(), LibC.write(fd, data, text.length()));
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** The benchmark's shape: a driver writes a byte and reads the echo; the echo reads and writes it back. */
    private static final class PingPong implements AutoCloseable {
        final IoSource pingOut, pingIn, pongOut, pongIn;
        final List<IoSource> sources = new ArrayList<>();
        final IoBuffer driverByte = IoBuffer.allocate(8), echoByte = IoBuffer.allocate(8);
        final MemRegion[] one = {new MemRegion(0, 1)};
        final RawExecutor<?> executor;
        int left;
        CompletableFuture<Void> done;

        PingPong(RawExecutor<?> executor, String kind) throws IOException {
            this.executor = executor;
            if (kind.equals("pipe")) {
                Fd.Pipe ping = Fd.pipe(), pong = Fd.pipe();
                pingOut = register(ping.writeEnd());
                pingIn = register(ping.readEnd());
                pongOut = register(pong.writeEnd());
                pongIn = register(pong.readEnd());
            } else {
                Fd.SocketPair pair = Fd.socketpair();
                pingOut = pongIn = register(pair.first());
                pingIn = pongOut = register(pair.second());
            }
        }

        private IoSource register(Fd fd) throws IOException {
            IoSource source = executor.register(fd);
            sources.add(source);
            return source;
        }

        void startEcho() {
            executor.runUntil(executor.spawn(() -> {
                echo();
                return CompletableFuture.completedFuture(null);
            }));
        }

        private void echo() {
            pingIn.read(-1, echoByte, one).whenComplete((count, failure) -> {
                if (failure == null && count == 1) {
                    pongOut.write(-1, echoByte, one).whenComplete((written, writeFailure) -> {
                        if (writeFailure == null) {
                            echo();
                        }
                    });
                }
            });
        }

        CompletableFuture<Void> drive(int roundTrips) {
            return executor.spawn(() -> {
                left = roundTrips;
                done = new CompletableFuture<>();
                ping();
                return done;
            });
        }

        private void ping() {
            pingOut.write(-1, driverByte, one).whenComplete((written, failure) -> {
                if (failure != null) {
                    done.completeExceptionally(failure);
                    return;
                }
                pongIn.read(-1, driverByte, one).whenComplete((count, readFailure) -> {
                    if (readFailure != null || count != 1) {
                        done.completeExceptionally(readFailure != null ? readFailure : new IOException("read " + count));
                    } else if (--left == 0) {
                        done.complete(null);
                    } else {
                        ping();
                    }
                });
            });
        }

        @Override
        public void close() {
            sources.forEach(IoSource::close);
            driverByte.release();
            echoByte.release();
        }
    }
}
