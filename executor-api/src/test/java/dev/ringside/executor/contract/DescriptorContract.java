package dev.ringside.executor.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.OpenDescriptors;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.Task;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The contract of reactors on real descriptors (io_uring, epoll): eventfds and timerfds, and closing
 * with many operations in flight without leaking a descriptor or freeing memory twice. A reactor's
 * test extends this class; every test here must pass unchanged.
 */
public abstract class DescriptorContract<R extends Reactor> {

    /** The reactor under test. */
    protected abstract DescriptorFixture<R> fixture();

    /** Operations the reactor holds now (each reactor counts them its own way). */
    protected abstract int operationsInFlight(R reactor);

    @Test
    void eventfdPingPongBetweenTwoTasksKeepsOrder() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
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

    /**
     * One {@code Fd}, one source: registering it again fails at once, naming it, and the first source
     * still works (on epoll a second source of the same number would take over its wake-ups).
     */
    @Test
    void registeringAnFdTwiceIsRefusedAndTheFirstSourceKeepsWorking() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> executor.register(pipe.readEnd()));
            assertTrue(again.getMessage().contains("registered already"), again.getMessage());
            byte[] into = new byte[2];
            CompletableFuture<Integer> read = readEnd.read(IoSource.CURRENT_POSITION, into);
            executor.runUntil(executor.sleep(Duration.ofMillis(5)));
            executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, "ok".getBytes()));
            assertEquals(2, executor.runUntil(read));
            readEnd.close();
            writeEnd.close();
        }
    }

    /**
     * On an {@code O_APPEND} file a write at the current position appends and leaves the position at
     * the end; a write of nothing leaves it where it was; as write(2) does.
     */
    @Test
    void appendingWritesMoveThePositionAsWriteDoes() throws Exception {
        java.nio.file.Path path = java.nio.file.Files.createTempFile("ringside-append", ".bin");
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            java.nio.file.Files.write(path, "0123456789".getBytes());
            IoSource file = executor.register(Fd.open(path, java.nio.file.StandardOpenOption.READ,
                    java.nio.file.StandardOpenOption.APPEND));
            byte[] three = new byte[3];
            assertEquals(3, executor.runUntil(file.read(IoSource.CURRENT_POSITION, three)));
            assertEquals(0, executor.runUntil(file.write(IoSource.CURRENT_POSITION, new byte[0])));
            assertEquals(3, executor.runUntil(file.read(IoSource.CURRENT_POSITION, three)), "a write of nothing moved nothing");
            assertEquals("345", new String(three));
            assertEquals(2, executor.runUntil(file.write(IoSource.CURRENT_POSITION, "ab".getBytes())));
            assertEquals(0, executor.runUntil(file.read(IoSource.CURRENT_POSITION, three)), "the append left the position at the end");
            assertEquals("0123456789ab", java.nio.file.Files.readString(path));
            file.close();
        } finally {
            java.nio.file.Files.deleteIfExists(path);
        }
    }

    /**
     * A read or write of nothing on a named FIFO answers 0 at once, as read(2)/write(2) do, though the
     * FIFO is empty (the kernel cannot try a FIFO opened by name without blocking, so io_uring would
     * wait for readiness first).
     */
    @Test
    void callsOfNothingOnANamedFifoAnswerAtOnce() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ringside-fifo");
        java.nio.file.Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor(), "mkfifo");
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            IoSource source = executor.register(Fd.open(fifo, java.nio.file.StandardOpenOption.READ,
                    java.nio.file.StandardOpenOption.WRITE)); // O_RDWR: no wait for a peer
            CompletableFuture<Integer> read = source.read(IoSource.CURRENT_POSITION, new byte[0]);
            CompletableFuture<Integer> write = source.write(IoSource.CURRENT_POSITION, new byte[0]);
            executor.runUntil(CompletableFuture.anyOf(CompletableFuture.allOf(read, write), executor.sleep(Duration.ofSeconds(10))));
            assertEquals(0, read.getNow(-1), "a read of nothing from an empty FIFO");
            assertEquals(0, write.getNow(-1), "a write of nothing");
            source.close();
        } finally {
            java.nio.file.Files.deleteIfExists(fifo);
            java.nio.file.Files.deleteIfExists(dir);
        }
    }

    /** A read of nothing from an empty socket answers 0 at once, as read(2) does, for one region or several. */
    @Test
    void aReadOfNothingFromASocketAnswersZeroAtOnce() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor(); IoBuffer buffer = IoBuffer.allocate(8)) {
            Fd.SocketPair pair = Fd.socketpair();
            IoSource socket = executor.register(pair.first());
            IoSource peer = executor.register(pair.second());
            CompletableFuture<Integer> one = socket.read(IoSource.CURRENT_POSITION, new byte[0]);
            CompletableFuture<Integer> two = socket.read(IoSource.CURRENT_POSITION, buffer, new MemRegion(0, 0), new MemRegion(4, 0));
            executor.runUntil(CompletableFuture.anyOf(CompletableFuture.allOf(one, two), executor.sleep(Duration.ofSeconds(10))));
            assertEquals(0, one.getNow(-1), "one empty region");
            assertEquals(0, two.getNow(-1), "two empty regions");
            socket.close();
            peer.close();
        }
    }

    /**
     * An eventfd or a timerfd has no file position: a read at an offset fails with ESPIPE, as pread(2)
     * does (they accept lseek, so that is not what tells), and the eventfd's count is left alone.
     */
    @Test
    void aReadAtAnOffsetOfAnEventfdOrATimerfdFailsWithEspipe() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            IoSource eventfd = executor.register(Fd.eventfd(3, false));
            IoSource timerfd = executor.register(Fd.timerfd());
            for (IoSource source : List.of(eventfd, timerfd)) {
                CompletionException failure = assertThrows(CompletionException.class,
                        () -> executor.runUntil(source.read(100, new byte[8])));
                assertEquals("ESPIPE", assertInstanceOf(ErrnoException.class, failure.getCause()).symbol());
            }
            byte[] count = new byte[8];
            assertEquals(8, executor.runUntil(eventfd.read(IoSource.CURRENT_POSITION, count)));
            assertEquals(3, MemorySegment.ofArray(count).get(ValueLayout.JAVA_LONG_UNALIGNED, 0), "the count was still 3");
            eventfd.close();
            timerfd.close();
        }
    }

    /**
     * A socketpair carries bytes both ways, for one region and for several; a read issued before the
     * peer writes waits for it; a cancelled read keeps its buffer until the kernel returns it; a closed
     * peer reads as EOF (0) and fails a write with EPIPE naming the call; the sockets' flags never change.
     */
    @Test
    void aSocketpairCarriesBytesAndReportsTheClosedPeer() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            Fd.SocketPair pair = Fd.socketpair();
            int aFlags = LibC.fcntl(pair.first().intValue(), Linux.F_GETFL, 0);
            int bFlags = LibC.fcntl(pair.second().intValue(), Linux.F_GETFL, 0);
            IoSource a = executor.register(pair.first());
            IoSource b = executor.register(pair.second());

            byte[] one = new byte[8];
            CompletableFuture<Integer> early = b.read(IoSource.CURRENT_POSITION, one);
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            assertFalse(early.isDone(), "nothing was sent: the read waits");
            assertEquals(5, executor.runUntil(a.write(IoSource.CURRENT_POSITION, "hello".getBytes())));
            assertEquals(5, executor.runUntil(early));
            assertEquals("hello", new String(one, 0, 5));

            try (IoBuffer out = IoBuffer.copyOf("..AA...BBB".getBytes()); IoBuffer in = IoBuffer.allocate(16)) {
                assertEquals(5, executor.runUntil(a.write(IoSource.CURRENT_POSITION, out,
                        new MemRegion(2, 2), new MemRegion(7, 3))));
                assertEquals(5, executor.runUntil(b.read(IoSource.CURRENT_POSITION, in,
                        new MemRegion(8, 2), new MemRegion(0, 3))));
                assertEquals("AA", new String(in.toByteArray(8, 2)));
                assertEquals("BBB", new String(in.toByteArray(0, 3)));
            }

            try (IoBuffer held = IoBuffer.allocate(8)) {
                CompletableFuture<Integer> cancelled = a.read(IoSource.CURRENT_POSITION, held, new MemRegion(0, 8));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
                assertEquals(2, held.refCount(), "the pending read holds its buffer");
                assertTrue(cancelled.cancel(false));
                ContractSupport.loopUntil(executor, () -> held.refCount() == 1); // the kernel returned it
            }

            assertEquals(aFlags, LibC.fcntl(pair.first().intValue(), Linux.F_GETFL, 0));
            assertEquals(bFlags, LibC.fcntl(pair.second().intValue(), Linux.F_GETFL, 0));
            b.close();
            assertEquals(0, executor.runUntil(a.read(IoSource.CURRENT_POSITION, one)), "a closed peer reads as EOF");
            CompletionException failure = assertThrows(CompletionException.class,
                    () -> executor.runUntil(a.write(IoSource.CURRENT_POSITION, "nobody".getBytes())));
            ErrnoException errno = assertInstanceOf(ErrnoException.class, failure.getCause());
            assertEquals("EPIPE", errno.symbol(), errno.getMessage());
            assertTrue(errno.getMessage().contains("write"), "the error names the call: " + errno.getMessage());
            a.close();
        }
    }

    /**
     * Descriptors the caller made non-blocking ({@code O_NONBLOCK} on the open file description, as
     * NIO channels and most network libraries leave them) behave like blocking ones: a read of an
     * empty pipe or socket, of an eventfd at zero or of an unarmed timerfd waits, and a write to a full
     * pipe waits for room, instead of failing with {@code EAGAIN}; and the flag is still set afterwards.
     */
    @Test
    void descriptorsTheCallerMadeNonBlockingWaitLikeBlockingOnes() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            Fd.Pipe pipe = Fd.pipe();
            Fd.SocketPair sockets = Fd.socketpair();
            Fd eventFd = Fd.eventfd(0, false), timerFd = Fd.timerfd();
            int pipeWrite = pipe.writeEnd().intValue();
            int[] nonBlocking = {pipe.readEnd().intValue(), pipeWrite, sockets.first().intValue(),
                    sockets.second().intValue(), eventFd.intValue(), timerFd.intValue()};
            for (int fd : nonBlocking) {
                assertEquals(0, LibC.fcntl(fd, Linux.F_SETFL, LibC.fcntl(fd, Linux.F_GETFL, 0) | Linux.O_NONBLOCK));
            }
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            IoSource first = executor.register(sockets.first());
            IoSource second = executor.register(sockets.second());
            IoSource events = executor.register(eventFd);
            IoSource timer = executor.register(timerFd);

            byte[] fromPipe = new byte[8], fromSocket = new byte[8], counter = new byte[8], expirations = new byte[8];
            List<CompletableFuture<Integer>> reads = List.of(readEnd.read(IoSource.CURRENT_POSITION, fromPipe),
                    second.read(IoSource.CURRENT_POSITION, fromSocket), events.read(IoSource.CURRENT_POSITION, counter),
                    timer.read(IoSource.CURRENT_POSITION, expirations));
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            for (CompletableFuture<Integer> read : reads) { // the pipe, the socket, the eventfd at zero, the unarmed timerfd
                assertFalse(read.isDone(), "nothing to read from a non-blocking descriptor: the read waits, no EAGAIN");
            }
            byte[] three = new byte[8];
            three[0] = 3; // little-endian 3
            assertEquals(4, executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, "pipe".getBytes())));
            assertEquals(6, executor.runUntil(first.write(IoSource.CURRENT_POSITION, "socket".getBytes())));
            assertEquals(8, executor.runUntil(events.write(IoSource.CURRENT_POSITION, three)));
            timerFd.setTimer(Duration.ofMillis(1), Duration.ZERO);
            assertEquals(List.of(4, 6, 8, 8), executor.runUntil(CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
                    .thenApply(all -> reads.stream().map(CompletableFuture::join).toList())));
            assertEquals("pipe", new String(fromPipe, 0, 4));
            assertEquals("socket", new String(fromSocket, 0, 6));
            assertEquals(3L, MemorySegment.ofArray(counter).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertEquals(1L, MemorySegment.ofArray(expirations).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));

            long capacity = DescriptorFixture.fillWithoutBlocking(pipeWrite);
            CompletableFuture<Integer> writeWaits = writeEnd.write(IoSource.CURRENT_POSITION, "late".getBytes());
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            assertFalse(writeWaits.isDone(), "a full non-blocking pipe: the write waits, no EAGAIN");
            for (long drained = 0; drained < capacity; ) { // exactly the filling, not the late bytes
                drained += executor.runUntil(readEnd.read(IoSource.CURRENT_POSITION, new byte[(int) (capacity - drained)]));
            }
            assertEquals(4, executor.runUntil(writeWaits));
            assertEquals(4, executor.runUntil(readEnd.read(IoSource.CURRENT_POSITION, fromPipe)));
            assertEquals("late", new String(fromPipe, 0, 4));

            for (int fd : nonBlocking) {
                assertEquals(Linux.O_NONBLOCK, LibC.fcntl(fd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK, "fd " + fd);
            }
            for (IoSource source : List.of(readEnd, writeEnd, first, second, events, timer)) {
                source.close();
            }
        }
    }

    @Test
    void aTimerfdExpiryIsRead() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor()) {
            Fd timer = Fd.timerfd();
            timer.setTimer(Duration.ofMillis(2), Duration.ZERO);
            IoSource timerSource = executor.register(timer);
            byte[] expirations = new byte[8];
            assertEquals(8, executor.runUntil(timerSource.read(-1, expirations)));
            assertEquals(1L, MemorySegment.ofArray(expirations).get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            timerSource.close();
        }
    }

    @Test
    void closingFromAnotherThreadWithAThousandPendingReadsDrainsAndLeaksNothing() throws Exception {
        long descriptorsBefore = OpenDescriptors.count();
        List<IoBuffer> buffers = new ArrayList<>();
        List<CompletableFuture<Integer>> reads = new ArrayList<>();
        List<Fd.Pipe> pipes = new ArrayList<>();
        RawExecutor<R> executor = fixture().newExecutor();
        for (int i = 0; i < 500; i++) {
            Fd.Pipe pipe = Fd.pipe();
            pipes.add(pipe);
            IoSource readEnd = executor.register(pipe.readEnd());
            for (int j = 0; j < 2; j++) {
                IoBuffer buffer = IoBuffer.allocate(64);
                buffers.add(buffer);
                reads.add(readEnd.read(-1, buffer, new MemRegion(0, 64)));
            }
            if (i % 2 == 0) {
                readEnd.close(); // half the sources are closed: their reads hold the descriptor
            }
        }
        executor.runUntil(executor.sleep(Duration.ofMillis(20)));
        assertEquals(1000, operationsInFlight(executor.reactor()));
        AtomicReference<Throwable> closeFailure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().start(() -> { // from a thread other than the loop's
            try {
                executor.close();
            } catch (Throwable t) {
                closeFailure.set(t);
            }
        });
        closer.join();
        if (!fixture().loopMayMoveBetweenThreads()) {
            // The documented exception: the loop is bound to this thread, which last ran it; another
            // thread may not drain it while it idles, and is told so before it touches the reactor.
            assertInstanceOf(IllegalStateException.class, closeFailure.get());
            assertFalse(executor.isTerminated(), "a refused close drains nothing");
            assertEquals(1000, operationsInFlight(executor.reactor()));
            executor.close();
        } else {
            assertNull(closeFailure.get());
        }
        assertTrue(executor.isTerminated());
        for (int i = 0; i < buffers.size(); i++) {
            assertTrue(reads.get(i).isCancelled(), "read " + i + " failed with CancellationException: " + reads.get(i));
            assertEquals(1, buffers.get(i).refCount(), "buffer " + i + " handed back once");
            buffers.get(i).close();
            assertTrue(buffers.get(i).isFreed());
        }
        for (int i = 0; i < pipes.size(); i++) {
            pipes.get(i).writeEnd().close();
            if (i % 2 == 1) {
                pipes.get(i).readEnd().close(); // never closed through its source
            }
        }
        assertEquals(descriptorsBefore, OpenDescriptors.count(),
                "no descriptor leaks: the reactor's own descriptors and the pipes are closed");
    }

    /**
     * Reads issued on the loop share one hold on the descriptor (AbstractIoSource): closing their
     * source leaves the number open until the last of them has completed, then closes it.
     */
    @Test
    void aClosedSourceKeepsItsNumberOpenUntilTheLastPendingReadCompletes() throws Exception {
        try (RawExecutor<R> executor = fixture().newExecutor(); Fd.Pipe pipe = Fd.pipe()) {
            int number = pipe.readEnd().intValue();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoBuffer buffer = IoBuffer.allocate(8);
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            executor.runUntil(executor.spawn(() -> {
                for (int i = 0; i < 3; i++) {
                    reads.add(readEnd.read(-1, buffer, new MemRegion(i, 1)));
                }
                readEnd.close();
                return CompletableFuture.completedFuture(null);
            }));
            executor.runUntil(executor.sleep(Duration.ofMillis(5)));
            assertEquals(3, operationsInFlight(executor.reactor()));
            assertTrue(isOpen(number), "three reads pending: the number is open after close()");
            for (int i = 0; i < 3; i++) {
                reads.get(i).cancel(false);
                int left = 2 - i;
                executor.runUntil(executor.sleep(Duration.ofMillis(5)));
                assertEquals(left, operationsInFlight(executor.reactor()), "reads the kernel still holds");
                assertEquals(left > 0, isOpen(number), left + " reads pending: the number is "
                        + (left > 0 ? "still open" : "closed by the last completion"));
            }
            assertEquals(1, buffer.refCount(), "every read handed the buffer back");
            buffer.close();
        }
    }

    private static boolean isOpen(int number) {
        return LibC.fcntl(number, Linux.F_GETFD, 0) >= 0;
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
}
