package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoOperation;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.ReactorProvider;
import dev.ringside.executor.Task;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import dev.ringside.reactor.poll.EpollReactor.Strategy;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** epoll-specific behaviour, on the real kernel. */
class EpollReactorTest extends TestWithCleanup {

    @TempDir
    Path dir;

    @BeforeAll
    static void requireEpoll() {
        EpollFixture.assumeReactorAvailable();
    }

    // ---------------------------------------------------------------- registrations

    @Test
    void oneSocketWaitsToReadAndToWriteAtTheSameTimeWithOneRegistration() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.SocketPair pair = Fd.socketpair();
        int aFd = pair.first().intValue();
        IoSource a = later(executor.register(pair.first()));
        IoSource b = later(executor.register(pair.second()));
        EpollFixture.fillWithoutBlocking(aFd); // a cannot send until b reads
        byte[] into = new byte[4];
        CompletableFuture<Integer> read = a.read(-1, into);
        CompletableFuture<Integer> write = a.write(-1, new byte[4096]);
        CompletableFuture<Void> readable = a.waitReadable();
        CompletableFuture<Void> writable = a.waitWritable();
        executor.runUntil(executor.sleep(Duration.ofMillis(5)));
        assertFalse(read.isDone() || write.isDone() || readable.isDone() || writable.isDone(), "all four wait");
        Map<Integer, Integer> registered = registrations(executor.reactor());
        assertTrue(registered.containsKey(aFd), "a is registered: " + registered);
        assertEquals(Linux.EPOLLIN | Linux.EPOLLOUT, registered.get(aFd) & (Linux.EPOLLIN | Linux.EPOLLOUT),
                "one registration holds both interests");

        executor.runUntil(b.write(-1, bytes("ping")));
        assertEquals(4, executor.runUntil(read));
        assertArrayEquals(bytes("ping"), into);
        executor.runUntil(readable);
        int ctlBefore = executor.reactor().ctlCalls();
        executor.runUntil(executor.sleep(Duration.ofMillis(2))); // a loop pass reconciles before it waits
        assertFalse(write.isDone() || writable.isDone(), "the write still waits for room");
        assertEquals(Linux.EPOLLIN | Linux.EPOLLOUT, registrations(executor.reactor()).get(aFd) & (Linux.EPOLLIN | Linux.EPOLLOUT),
                "the read interest is kept for the next reader, the writers' stays");
        assertEquals(ctlBefore, executor.reactor().ctlCalls(), "the readers leaving cost no epoll_ctl");

        byte[] sink = new byte[1 << 16];
        while (!write.isDone()) {
            executor.runUntil(b.read(-1, sink)); // each read frees room; the write's bytes come last
        }
        assertTrue(write.join() > 0);
        executor.runUntil(writable);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(registrations(executor.reactor()).containsKey(aFd),
                "nothing waits and the write interest must go: the registration is deleted, not modified");
    }

    @Test
    void cancellingTheLastWaiterRemovesTheRegistration() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(executor.register(pipe.writeEnd()));
        IoBuffer buffer = later(IoBuffer.allocate(8));
        CompletableFuture<Integer> read = readEnd.read(-1, buffer, new MemRegion(0, 8));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertEquals(Linux.EPOLLIN, registrations(executor.reactor()).get(readFd) & Linux.EPOLLIN);
        assertTrue(read.cancel(false));
        loopUntil(executor, () -> buffer.refCount() == 1);
        assertFalse(registrations(executor.reactor()).containsKey(readFd), "the interest is gone from the epoll set");
        assertEquals(0, executor.reactor().operationsInFlight());
    }

    @Test
    void closingASourceDeletesItsRegistrationEvenWhenTheFileLivesOn() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        Fd keepAlive = later(pipe.readEnd().dup()); // without a DEL, the closed number would stay registered
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));

        // An idle source: it waited once, its registration stays (disarmed) until it is closed.
        int idleFd = pipe.readEnd().intValue();
        IoSource idle = executor.register(pipe.readEnd());
        CompletableFuture<Integer> first = idle.read(-1, new byte[1]);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        executor.runUntil(writeEnd.write(-1, bytes("1")));
        assertEquals(1, executor.runUntil(first));
        assertTrue(registrations(executor.reactor()).containsKey(idleFd));
        idle.close();
        assertFalse(registrations(executor.reactor()).containsKey(idleFd), "closed while idle");

        // A source closed while a read waits: the read still completes, then the registration goes.
        Fd second = keepAlive.dup();
        int busyFd = second.intValue();
        IoSource busy = executor.register(second);
        byte[] into = new byte[3];
        CompletableFuture<Integer> pending = busy.read(-1, into);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        busy.close();
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(pending.isDone());
        executor.runUntil(writeEnd.write(-1, bytes("end")));
        assertEquals(3, executor.runUntil(pending));
        assertArrayEquals(bytes("end"), into);
        assertFalse(registrations(executor.reactor()).containsKey(busyFd), "deleted before the last hold closed the number");
    }

    // ---------------------------------------------------------------- the caller's descriptor flags

    @Test
    void theCallersFileStatusFlagsAreLeftAsTheyWere() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue(), writeFd = pipe.writeEnd().intValue();
        int writeFlags = LibC.fcntl(writeFd, Linux.F_GETFL, 0);
        LibC.fcntl(writeFd, Linux.F_SETFL, writeFlags | Linux.O_NONBLOCK); // the caller's choice for this end
        int readBefore = LibC.fcntl(readFd, Linux.F_GETFL, 0), writeBefore = LibC.fcntl(writeFd, Linux.F_GETFL, 0);
        assertEquals(0, readBefore & Linux.O_NONBLOCK);
        assertEquals(Linux.O_NONBLOCK, writeBefore & Linux.O_NONBLOCK);
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));

        CompletableFuture<Integer> read = readEnd.read(-1, new byte[4]); // waits: the pipe is empty
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertEquals(readBefore, LibC.fcntl(readFd, Linux.F_GETFL, 0), "while a read waits");
        executor.runUntil(writeEnd.write(-1, bytes("data")));
        assertEquals(4, executor.runUntil(read));
        EpollFixture.fillWithoutBlocking(writeFd);
        CompletableFuture<Integer> write = writeEnd.write(-1, bytes("more")); // waits: the pipe is full
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(write.isDone());
        while (!write.isDone()) {
            executor.runUntil(readEnd.read(-1, new byte[1 << 16]));
        }
        assertEquals(4, write.join());

        assertEquals(readBefore, LibC.fcntl(readFd, Linux.F_GETFL, 0), "the blocking end is still blocking");
        assertEquals(writeBefore, LibC.fcntl(writeFd, Linux.F_GETFL, 0), "the non-blocking end is still non-blocking");
    }

    // ---------------------------------------------------------------- the blocking pool

    @Test
    void regularFileCallsRunOnThePoolWhileTheLoopKeepsRunningTasks() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Path path = Files.write(dir.resolve("file"), bytes("0123456789"));
        IoSource file = later(executor.register(Fd.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)));
        assertFalse(EpollReactor.isPollable(file), "epoll refuses a regular file");
        CountDownLatch inCall = new CountDownLatch(1), release = new CountDownLatch(1);
        List<Thread> callers = Collections.synchronizedList(new ArrayList<>());
        List<IoOperation.Kind> kinds = Collections.synchronizedList(new ArrayList<>());
        executor.reactor().blockingCallProbe = op -> {
            callers.add(Thread.currentThread());
            kinds.add(op.kind());
            inCall.countDown();
            await(release);
        };

        byte[] into = new byte[4];
        CompletableFuture<Integer> read = file.read(3, into);
        loopUntil(executor, () -> inCall.getCount() == 0);
        int[] ran = {0};
        CompletableFuture<Void> thousand = new CompletableFuture<>();
        executor.execute(new Runnable() {
            @Override
            public void run() {
                if (++ran[0] == 1000) {
                    thousand.complete(null);
                } else {
                    executor.execute(this);
                }
            }
        });
        executor.runUntil(thousand);
        assertFalse(read.isDone(), "the read is held inside its call, yet the loop ran 1,000 tasks");
        release.countDown();
        assertEquals(4, executor.runUntil(read));
        assertArrayEquals(bytes("3456"), into);

        executor.runUntil(file.write(0, bytes("ab")));
        executor.runUntil(file.fsync());
        executor.runUntil(file.fdatasync());
        executor.runUntil(file.fallocate(0, 100));
        executor.runUntil(file.waitReadable()); // a regular file is always ready: no call at all
        assertEquals(List.of(IoOperation.Kind.READ, IoOperation.Kind.WRITE, IoOperation.Kind.FSYNC,
                IoOperation.Kind.FDATASYNC, IoOperation.Kind.FALLOCATE), kinds);
        Thread loop = Thread.currentThread();
        for (Thread caller : callers) {
            assertNotSame(loop, caller);
            assertTrue(caller.getName().startsWith("ringside-epoll-") && caller.isDaemon(), caller.toString());
        }
    }

    @Test
    void fsyncOnAPipeRunsOnThePoolAndReportsTheKernelsAnswer() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(executor.register(pipe.writeEnd()));
        AtomicReference<Thread> caller = new AtomicReference<>();
        executor.reactor().blockingCallProbe = op -> caller.set(Thread.currentThread());
        CompletionException failure = assertThrows(CompletionException.class, () -> executor.runUntil(readEnd.fsync()));
        assertEquals("EINVAL", assertInstanceOf(ErrnoException.class, failure.getCause()).symbol());
        assertNotSame(Thread.currentThread(), caller.get());
    }

    @Test
    void closeWaitsForARunningBlockingCallAndPastTheDeadlineLeaksItsMemory() throws Exception {
        Path path = Files.write(dir.resolve("held"), bytes("held"));
        for (boolean releaseBeforeDeadline : new boolean[] {true, false}) {
            RawExecutor<EpollReactor> executor = RawExecutor.builder(EpollReactor::new)
                    .drainDeadline(releaseBeforeDeadline ? Duration.ofSeconds(30) : Duration.ofMillis(50)).build();
            IoSource file = executor.register(Fd.open(path, StandardOpenOption.READ));
            CountDownLatch inCall = new CountDownLatch(1), release = new CountDownLatch(1);
            AtomicReference<Thread> caller = new AtomicReference<>();
            executor.reactor().blockingCallProbe = op -> {
                caller.set(Thread.currentThread());
                inCall.countDown();
                await(release);
            };
            IoBuffer buffer = IoBuffer.allocate(4);
            CompletableFuture<Integer> read = file.read(0, buffer, new MemRegion(0, 4));
            loopUntil(executor, () -> inCall.getCount() == 0);
            Thread closer = Thread.ofPlatform().start(executor::close);
            if (releaseBeforeDeadline) {
                closer.join(200);
                assertTrue(closer.isAlive(), "close waits for the call to return");
                release.countDown();
                closer.join();
                assertEquals(1, buffer.refCount(), "the call returned: its hold is released");
            } else {
                closer.join();
                assertEquals(2, buffer.refCount(), "past the deadline the call's memory is held for good");
                release.countDown();
                caller.get().join(); // the call returned and its thread ended (the pool is shut down)
                assertEquals(2, buffer.refCount(), "a call returning after close never frees its memory");
            }
            assertTrue(executor.isTerminated());
            assertTrue(read.isCancelled());
            file.close();
            buffer.close();
        }
    }

    // ---------------------------------------------------------------- closing

    // ---------------------------------------------------------------- wake-ups and waiting

    /**
     * Work from another thread reaches a loop that spins before blocking without a wake-up: the loop's
     * wake state stays PROCESSING while it spins, so producers never write the eventfd. Handed to a loop
     * that blocks at once, the same work, each piece 10 ms after the last (so the loop has parked),
     * writes it.
     */
    @Test
    void workFromOtherThreadsReachesASpinningLoopWithoutAnEventfdWrite() throws Exception {
        for (boolean spin : new boolean[] {true, false}) {
            try (RawExecutor<EpollReactor> executor = RawExecutor.builder(EpollReactor::new)
                    .spinBeforeBlocking(spin ? Duration.ofMinutes(10) : Duration.ZERO).build()) {
                Thread loop = Thread.ofPlatform().start(executor::run);
                for (int i = 0; i < 20; i++) {
                    Thread.sleep(10);
                    CompletableFuture<Void> ran = new CompletableFuture<>();
                    executor.execute(() -> ran.complete(null));
                    ran.get(10, TimeUnit.SECONDS);
                }
                long writes = executor.reactor().wakeWrites();
                if (spin) {
                    assertEquals(0, writes, "a spinning loop needs no wake-up");
                } else {
                    assertTrue(writes > 0, "a parked loop is woken through the eventfd");
                }
                executor.close();
                loop.join(10_000);
                assertFalse(loop.isAlive());
            }
        }
    }

    @Test
    void aBurstOfWakeUpsFromManyThreadsWritesTheEventfdOnce() throws Exception {
        try (EpollReactor reactor = new EpollReactor()) {
            List<Thread> wakers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                wakers.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 1000; i++) {
                        reactor.wake();
                    }
                }));
            }
            for (Thread waker : wakers) {
                waker.join();
            }
            assertEquals(1, reactor.wakeWrites(), "one eventfd write for the whole burst");
            AtomicInteger processing = new AtomicInteger();
            reactor.waitForWork(Reactor.NO_DEADLINE, processing::incrementAndGet); // returns: the wake is pending
            assertEquals(1, processing.get());
            reactor.wake();
            assertEquals(2, reactor.wakeWrites(), "the loop consumed the first burst; the next one writes again");
            Thread.ofPlatform().start(reactor::wake).join();
            reactor.waitForWork(Reactor.NO_DEADLINE, processing::incrementAndGet);
            CountDownLatch aboutToWait = new CountDownLatch(1);
            Thread late = Thread.ofPlatform().start(() -> {
                await(aboutToWait);
                reactor.wake(); // before or during the wait: either way the wait returns
            });
            aboutToWait.countDown();
            reactor.waitForWork(Reactor.NO_DEADLINE, processing::incrementAndGet);
            late.join();
            assertEquals(3, processing.get());
        }
    }

    @Test
    void aLoopBlockedInEpollWakesForIoFromAnotherThread() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(pipe.writeEnd());
        byte[] into = new byte[5];
        CompletableFuture<Integer> read = readEnd.read(-1, into);
        Thread writer = Thread.ofPlatform().start(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment hello = arena.allocateFrom("hello");
                LibC.write(writeFd, hello, 5); // straight to the kernel: only epoll can tell the loop
            }
        });
        assertEquals(5, executor.runUntil(read));
        writer.join();
        assertArrayEquals(bytes("hello"), into);
        CompletableFuture<String> answer = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> executor.execute(() -> answer.complete("woken")));
        assertEquals("woken", executor.runUntil(answer));
    }

    @Test
    void waitsNeverEndBeforeTheDeadlineAndDoNotSpinWithEitherWaitCall() throws Exception {
        for (boolean epollWaitOnly : new boolean[] {false, true}) {
            try (RawExecutor<EpollReactor> executor = RawExecutor.create(
                    EpollReactor.builder().epollWaitOnly(epollWaitOnly).factory())) {
                EpollReactor reactor = executor.reactor();
                if (epollWaitOnly) {
                    assertFalse(reactor.usesEpollPwait2());
                }
                executor.runUntil(executor.sleep(Duration.ofMillis(1))); // warm-up
                Duration nap = Duration.ofNanos(700_000); // less than a millisecond: rounding down would give 0
                long start = reactor.nanoTime();
                int waitsBefore = reactor.waitCalls();
                executor.runUntil(executor.sleep(nap));
                assertTrue(reactor.nanoTime() - start >= nap.toNanos(), "a sleep ended early");
                int waits = reactor.waitCalls() - waitsBefore;
                assertTrue(waits <= 3, waits + " waits for one sleep: the timeout must round up, not spin");
            }
        }
    }

    /**
     * {@code epoll_pwait2} serves only timeouts under a second; a wait with no timeout, or with a timer
     * a second or more away, is an {@code epoll_wait}, and the timer still fires, not before its time.
     */
    @Test
    void onlyTimeoutsUnderASecondUseEpollPwait2() throws Exception {
        try (RawExecutor<EpollReactor> executor = RawExecutor.create(EpollReactor::new)) {
            EpollReactor reactor = executor.reactor();
            assumeTrue(reactor.usesEpollPwait2(), "this kernel has no epoll_pwait2");
            executor.runUntil(executor.sleep(Duration.ofMillis(1))); // warm-up
            int pwait2 = reactor.pwait2Calls();
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            assertTrue(reactor.pwait2Calls() > pwait2, "a 2 ms sleep waits with epoll_pwait2");

            // A timer 5 s away and a wake-up from another thread 20 ms from now: the wait is epoll_wait.
            var far = executor.schedule(() -> { }, 5, TimeUnit.SECONDS);
            CompletableFuture<String> answer = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                LockSupport.parkNanos(20_000_000L);
                executor.execute(() -> answer.complete("woken"));
            });
            pwait2 = reactor.pwait2Calls();
            int waits = reactor.waitCalls();
            assertEquals("woken", executor.runUntil(answer));
            assertTrue(reactor.waitCalls() > waits, "the loop waited");
            assertEquals(pwait2, reactor.pwait2Calls(), "a wait for a timer 5 s away is an epoll_wait");
            assertFalse(far.isDone(), "the far timer has not fired early");
            far.cancel(false);

            // A sleep of 1.05 s: the first wait is epoll_wait (rounded up), the sleep never ends early.
            Duration nap = Duration.ofMillis(1050);
            long start = reactor.nanoTime();
            executor.runUntil(executor.sleep(nap));
            assertTrue(reactor.nanoTime() - start >= nap.toNanos(), "a sleep ended early");
        }
    }

    // ---------------------------------------------------------------- non-blocking strategies

    @Test
    void socketsWorkWithDontwaitMessagesIncludingScatterAndGather() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.SocketPair pair = Fd.socketpair();
        int aFd = pair.first().intValue(), bFd = pair.second().intValue();
        int aFlags = LibC.fcntl(aFd, Linux.F_GETFL, 0), bFlags = LibC.fcntl(bFd, Linux.F_GETFL, 0);
        IoSource a = later(executor.register(pair.first()));
        IoSource b = later(executor.register(pair.second()));
        assertEquals("DONTWAIT/DONTWAIT", EpollReactor.strategies(a), "a socket starts with the socket calls");
        assertEquals("DONTWAIT/DONTWAIT", EpollReactor.strategies(b));
        Fd.Pipe pipe = Fd.pipe();
        IoSource pipeRead = later(executor.register(pipe.readEnd()));
        later(executor.register(pipe.writeEnd()));
        assertEquals("PRIVATE/PRIVATE", EpollReactor.strategies(pipeRead),
                "a pipe starts with plain calls on a private description");

        // One region: recv/send with MSG_DONTWAIT; a recv that finds nothing waits.
        byte[] one = new byte[4];
        CompletableFuture<Integer> single = b.read(-1, one);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(single.isDone(), "recv(MSG_DONTWAIT) found nothing: the read waits");
        assertEquals(3, executor.runUntil(a.write(-1, bytes("xyz"))));
        assertEquals(3, executor.runUntil(single));
        assertArrayEquals(bytes("xyz"), Arrays.copyOf(one, 3));

        // Several regions: recvmsg/sendmsg.
        assertScatteredReadWaitsForTheGatheredWrite(executor, b, a);
        assertEquals("DONTWAIT/DONTWAIT", EpollReactor.strategies(a));
        assertEquals(aFlags, LibC.fcntl(aFd, Linux.F_GETFL, 0));
        assertEquals(bFlags, LibC.fcntl(bFd, Linux.F_GETFL, 0));
    }

    /**
     * A pipe is read and written with plain {@code read}/{@code write} on a private non-blocking
     * description of it: the caller's descriptions keep their flags, and each private description is
     * open exactly as long as its source's descriptor, so a read pending when the source is closed keeps
     * both open until it completes, and then both close.
     */
    @Test
    void pipesUseAPrivateNonBlockingDescriptionThatClosesWithTheSource() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        long before = openDescriptors();
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue(), writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = executor.register(pipe.readEnd());
        IoSource writeEnd = executor.register(pipe.writeEnd());
        assertEquals("PRIVATE/PRIVATE", EpollReactor.strategies(readEnd));
        assertEquals("PRIVATE/PRIVATE", EpollReactor.strategies(writeEnd));
        assertEquals(before + 4, openDescriptors(), "two pipe ends and a private description of each");
        long attempts = executor.reactor().attemptCalls();
        assertReadWaitsForTheWrite(executor, readEnd, writeEnd, "ping");
        assertTrue(executor.reactor().attemptCalls() > attempts, "the calls went through the reactor's attempts");
        assertEquals(0, LibC.fcntl(readFd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK, "the caller's read end is untouched");
        assertEquals(0, LibC.fcntl(writeFd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK, "the caller's write end is untouched");

        // Several regions: readv/writev on the private descriptions.
        assertScatteredReadWaitsForTheGatheredWrite(executor, readEnd, writeEnd);

        IoBuffer buffer = later(IoBuffer.allocate(8));
        CompletableFuture<Integer> pending = readEnd.read(-1, buffer, new MemRegion(0, 8));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        readEnd.close();
        assertEquals(before + 4, openDescriptors(), "the pending read holds the read end and its private description");
        assertEquals(4, executor.runUntil(writeEnd.write(-1, bytes("late"))));
        assertEquals(4, executor.runUntil(pending), "an operation in flight completes after its source closed");
        assertEquals(before + 2, openDescriptors(), "the read end and its private description closed together");
        writeEnd.close();
        assertEquals(before, openDescriptors(), "the write end and its private description closed together");
    }

    /**
     * A pipe in packet mode ({@code pipe2(O_DIRECT)}, which marks the write end) is written through the
     * caller's description: packet mode belongs to the writing description, and each write stays one
     * packet, which a longer read returns alone. The read end, which has no such mode, gets its private
     * description as any pipe does.
     */
    @Test
    void aPacketModePipeIsWrittenThroughTheCallersDescriptionAndKeepsItsPackets() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        int[] ends = new int[2];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(8, 4);
            assertEquals(0, LibC.pipe2(fds, Linux.O_DIRECT | Linux.O_CLOEXEC), "pipe2(O_DIRECT)");
            ends[0] = fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
            ends[1] = fds.get(java.lang.foreign.ValueLayout.JAVA_INT, 4);
        }
        IoSource readEnd = later(executor.register(Fd.adopt(ends[0])));
        IoSource writeEnd = later(executor.register(Fd.adopt(ends[1])));
        assertEquals("NOWAIT/NOWAIT", EpollReactor.strategies(writeEnd), "packet mode: the caller's description, RWF_NOWAIT");
        assertEquals("PRIVATE/PRIVATE", EpollReactor.strategies(readEnd), "the read end has no packet mode");
        assertEquals(2, executor.runUntil(writeEnd.write(-1, bytes("ab"))));
        assertEquals(2, executor.runUntil(writeEnd.write(-1, bytes("cd"))));
        byte[] into = new byte[8];
        assertEquals(2, executor.runUntil(readEnd.read(-1, into)), "one packet per read");
        assertEquals(2, executor.runUntil(readEnd.read(-1, into)));
        assertArrayEquals(bytes("cd"), Arrays.copyOf(into, 2));
    }

    /** Where no private description can be opened (the test hook stands for a missing {@code /proc}), pipes use {@code RWF_NOWAIT}. */
    @Test
    void withoutAPrivateDescriptionPipesUseRwfNowait() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue();
        IoSource readEnd, writeEnd;
        long before = openDescriptors();
        EpollReactor.privateDescriptionsDisabledForTest = true;
        try {
            readEnd = later(executor.register(pipe.readEnd()));
            writeEnd = later(executor.register(pipe.writeEnd()));
        } finally {
            EpollReactor.privateDescriptionsDisabledForTest = false;
        }
        assertEquals("NOWAIT/NOWAIT", EpollReactor.strategies(readEnd));
        assertEquals(before, openDescriptors(), "no descriptor of the reactor's own");
        assertReadWaitsForTheWrite(executor, readEnd, writeEnd, "pong");
        assertEquals("NOWAIT/NOWAIT", EpollReactor.strategies(readEnd));
        assertEquals(0, LibC.fcntl(readFd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK);
    }

    /** A read of an empty pipe waits; a write of {@code text} then completes it with the text. */
    private static void assertReadWaitsForTheWrite(RawExecutor<?> executor, IoSource readEnd, IoSource writeEnd, String text) {
        byte[] into = new byte[text.length()];
        CompletableFuture<Integer> read = readEnd.read(-1, into);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(read.isDone(), "an empty pipe: the read waits");
        assertEquals(text.length(), executor.runUntil(writeEnd.write(-1, bytes(text))));
        assertEquals(text.length(), executor.runUntil(read));
        assertArrayEquals(bytes(text), into);
    }

    /**
     * A read into two regions (8..10, then 0..3) of an empty source waits; a write from two regions of
     * "..AA...BBB" (2..4 and 7..10) then fills them with "AA" and "BBB".
     */
    private void assertScatteredReadWaitsForTheGatheredWrite(RawExecutor<?> executor, IoSource readEnd, IoSource writeEnd) {
        IoBuffer scattered = later(IoBuffer.allocate(16));
        IoBuffer gathered = later(IoBuffer.copyOf(bytes("..AA...BBB")));
        CompletableFuture<Integer> read = readEnd.read(-1, scattered, new MemRegion(8, 2), new MemRegion(0, 3));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(read.isDone(), "nothing to read: the read waits");
        assertEquals(5, executor.runUntil(writeEnd.write(-1, gathered, new MemRegion(2, 2), new MemRegion(7, 3))));
        assertEquals(5, executor.runUntil(read));
        assertArrayEquals(bytes("AA"), scattered.toByteArray(8, 2));
        assertArrayEquals(bytes("BBB"), scattered.toByteArray(0, 3));
    }

    /** How many descriptors this process has open ({@code /proc/self/fd}, the listing's own included). */
    private static long openDescriptors() throws IOException {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }

    @Test
    void readyThenPoolWaitsOnTheLoopIsCancellableThereAndCallsOnThePool() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue(), writeFd = pipe.writeEnd().intValue();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));
        EpollReactor.forceStrategies(readEnd, Strategy.DONTWAIT, Strategy.NOWAIT); // not a socket: falls back
        List<Thread> callers = Collections.synchronizedList(new ArrayList<>());
        executor.reactor().blockingCallProbe = op -> callers.add(Thread.currentThread());

        IoBuffer cancelled = later(IoBuffer.allocate(8));
        CompletableFuture<Integer> waiting = readEnd.read(-1, cancelled, new MemRegion(0, 8));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertEquals("READY_THEN_POOL/NOWAIT", EpollReactor.strategies(readEnd), "ENOTSOCK moved reads to the pool");
        assertTrue(callers.isEmpty(), "nothing is ready: no blocking call was made");
        assertTrue(waiting.cancel(false));
        loopUntil(executor, () -> cancelled.refCount() == 1);

        byte[] into = new byte[5];
        CompletableFuture<Integer> read = readEnd.read(-1, into);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        executor.runUntil(writeEnd.write(-1, bytes("ready")));
        assertEquals(5, executor.runUntil(read));
        assertArrayEquals(bytes("ready"), into);
        assertEquals(1, callers.size(), "one blocking read, made once the pipe was readable");
        assertNotSame(Thread.currentThread(), callers.get(0));
        assertEquals(0, LibC.fcntl(readFd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK);
        assertEquals(0, LibC.fcntl(writeFd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK);
    }

    @Test
    void readyThenPoolWaitsAgainWhenSomeoneElseTookTheData() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        int readFd = pipe.readEnd().intValue();
        LibC.fcntl(readFd, Linux.F_SETFL, LibC.fcntl(readFd, Linux.F_GETFL, 0) | Linux.O_NONBLOCK);
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));
        EpollReactor.forceStrategies(readEnd, Strategy.READY_THEN_POOL, Strategy.NOWAIT);
        AtomicInteger calls = new AtomicInteger();
        executor.reactor().blockingCallProbe = op -> {
            if (calls.incrementAndGet() == 1) { // another reader of the same file takes the bytes first
                try (Arena arena = Arena.ofConfined()) {
                    assertEquals(5, LibC.read(readFd, arena.allocate(16), 16));
                }
            }
        };
        byte[] into = new byte[16];
        CompletableFuture<Integer> read = readEnd.read(-1, into);
        executor.runUntil(writeEnd.write(-1, bytes("stole")));
        loopUntil(executor, () -> calls.get() == 1);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(read.isDone(), "EAGAIN from the pool call puts the read back to wait");
        executor.runUntil(writeEnd.write(-1, bytes("mine")));
        assertEquals(4, executor.runUntil(read));
        assertEquals("mine", new String(into, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(2, calls.get());
    }

    @Test
    void aWriteToAPipeWithNoReaderFailsWithEpipe() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        IoSource writeEnd = later(executor.register(pipe.writeEnd()));
        pipe.readEnd().close();
        CompletionException failure = assertThrows(CompletionException.class,
                () -> executor.runUntil(writeEnd.write(-1, bytes("nobody"))));
        assertEquals("EPIPE", assertInstanceOf(ErrnoException.class, failure.getCause()).symbol(),
                "the JVM ignores SIGPIPE; the call reports EPIPE");
        executor.runUntil(writeEnd.waitWritable()); // EPOLLERR makes a writer ready
    }

    // ---------------------------------------------------------------- sources and selection

    @Test
    void newSourceTellsPollableDescriptorsFromTheOthers() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        assertTrue(EpollReactor.isPollable(later(executor.register(pipe.readEnd()))));
        assertTrue(EpollReactor.isPollable(later(executor.register(pipe.writeEnd()))));
        IoSource devNull = later(executor.register(Fd.open(Path.of("/dev/null"), StandardOpenOption.READ)));
        assertFalse(EpollReactor.isPollable(devNull), "epoll refuses /dev/null with EPERM");
        assertEquals(0, executor.runUntil(devNull.read(-1, new byte[4])));
        Map<Integer, Integer> registered = registrations(executor.reactor());
        assertEquals(1, registered.size(), "only the wake-up eventfd: the probes left nothing: " + registered);
        RawExecutor<EpollReactor> other = later(RawExecutor.create(EpollReactor::new));
        other.reactor().close();
        Fd eventfd = later(Fd.eventfd(0, false));
        IOException closed = assertThrows(IOException.class, () -> other.register(eventfd));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        assertTrue(eventfd.isOpen(), "a refused descriptor stays the caller's");
    }

    @Test
    void createDefaultPicksEpollWhenForced() throws IOException {
        System.setProperty(ReactorProvider.SELECTION_PROPERTY, "epoll");
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(EpollReactor.class, executor.reactor());
        } finally {
            System.clearProperty(ReactorProvider.SELECTION_PROPERTY);
        }
        EpollReactorProvider provider = new EpollReactorProvider();
        assertEquals("epoll", provider.name());
        assertEquals(10, provider.priority());
        assertTrue(provider.unavailabilityCause().isEmpty());
    }

    @Test
    void cancellingAReadThatNeverReachedEpollStillCompletesOnce() throws Exception {
        RawExecutor<EpollReactor> executor = later(RawExecutor.create(EpollReactor::new));
        Fd.Pipe pipe = Fd.pipe();
        IoSource readEnd = later(executor.register(pipe.readEnd()));
        later(executor.register(pipe.writeEnd()));
        IoBuffer buffer = later(IoBuffer.allocate(8));
        Task<Integer> task = executor.spawn(() -> {
            CompletableFuture<Integer> read = readEnd.read(-1, buffer, new MemRegion(0, 8));
            read.cancel(false); // before any wait: the registration was never armed
            return read;
        });
        assertThrows(CancellationException.class, () -> executor.runUntil(task));
        loopUntil(executor, () -> buffer.refCount() == 1);
        assertEquals(0, executor.reactor().operationsInFlight());
    }

    // ---------------------------------------------------------------- helpers

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(30, TimeUnit.SECONDS), "latch not released");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Drives the loop in short sleeps until {@code condition} holds; fails after 2000 steps. */
    private static void loopUntil(RawExecutor<?> executor, BooleanSupplier condition) {
        for (int i = 0; i < 2000 && !condition.getAsBoolean(); i++) {
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        }
        assertTrue(condition.getAsBoolean(), "condition not reached while driving the loop");
    }

    /** The epoll set as the kernel shows it in {@code /proc/self/fdinfo}: descriptor number to armed events. */
    static Map<Integer, Integer> registrations(EpollReactor reactor) throws IOException {
        Map<Integer, Integer> registered = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + reactor.epollFd()))) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 4 && fields[0].equals("tfd:") && fields[2].equals("events:")) {
                registered.put(Integer.parseInt(fields[1]), Integer.parseUnsignedInt(fields[3], 16));
            }
        }
        return registered;
    }
}
