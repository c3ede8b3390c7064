package dev.ringside.executor.fake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoOperation.Kind;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake reactor's own features: virtual time, scripted faults, held completions, the log. */
class FakeReactorTest {

    private final RawExecutor<FakeReactor> executor = create(Duration.ofSeconds(5));
    private final FakeReactor fake = executor.reactor();

    private static RawExecutor<FakeReactor> create(Duration drainDeadline) {
        try {
            return RawExecutor.builder(FakeReactor::new).drainDeadline(drainDeadline).build();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @AfterEach
    void close() {
        executor.close();
    }

    @Test
    void sleepingAnHourMovesOnlyTheVirtualClock() {
        long start = fake.nanoTime();
        executor.runUntil(executor.spawn(() -> executor.sleep(Duration.ofHours(1))));
        long elapsed = fake.nanoTime() - start;
        assertTrue(elapsed >= Duration.ofHours(1).toNanos(), "virtual time advanced " + elapsed);
        assertTrue(elapsed < Duration.ofHours(1).toNanos() + Duration.ofSeconds(1).toNanos(),
                "the clock jumps to the deadline, not past it: " + elapsed);
    }

    @Test
    void scheduledDelayIsMeasuredOnTheVirtualClock() {
        var timer = executor.schedule(() -> fake.nanoTime(), 3, TimeUnit.DAYS);
        assertTrue(timer.getDelay(TimeUnit.HOURS) >= 71);
        long firedAt = executor.runUntil((CompletableFuture<Long>) timer);
        assertEquals(FakeReactor.START_NANOS + Duration.ofDays(3).toNanos(), firedAt);
    }

    @Test
    void advanceMovesTheClockByHand() {
        fake.advance(Duration.ofMinutes(2));
        assertEquals(FakeReactor.START_NANOS + Duration.ofMinutes(2).toNanos(), fake.nanoTime());
        assertThrows(IllegalArgumentException.class, () -> fake.advance(Duration.ofSeconds(-1)));
    }

    @Test
    void theNthOperationFailsWithTheScriptedErrno() {
        IoSource file = fake.open(executor, fake.newFile(new byte[16]));
        fake.failOperation(2, 5); // EIO
        assertEquals(4, executor.runUntil(file.read(0, new byte[4])));
        CompletionException failure = assertThrows(CompletionException.class,
                () -> executor.runUntil(file.read(0, new byte[4])));
        ErrnoException errno = assertInstanceOf(ErrnoException.class, failure.getCause());
        assertEquals("EIO", errno.symbol());
        assertTrue(errno.getMessage().contains("read"), errno.getMessage());
        assertEquals(4, executor.runUntil(file.read(0, new byte[4])));
    }

    @Test
    void theNextOperationOfAKindFails() {
        IoSource file = fake.open(executor, fake.newFile(new byte[16]));
        fake.failNext(Kind.FSYNC, 28); // ENOSPC
        assertEquals(2, executor.runUntil(file.write(0, new byte[2])));
        CompletionException failure = assertThrows(CompletionException.class, () -> executor.runUntil(file.fsync()));
        assertEquals("ENOSPC", ((ErrnoException) failure.getCause()).symbol());
        executor.runUntil(file.fsync());
    }

    @Test
    void limitedTransfersGiveShortReadsAndWrites() {
        FakeFile backing = fake.newFile("abcdefgh".getBytes());
        IoSource file = fake.open(executor, backing);
        fake.limitTransfers(3);
        byte[] into = new byte[8];
        assertEquals(3, executor.runUntil(file.read(0, into)));
        assertArrayEquals("abc".getBytes(), java.util.Arrays.copyOf(into, 3));
        assertEquals(3, executor.runUntil(file.write(0, "XYZW".getBytes())));
        assertArrayEquals("XYZdefgh".getBytes(), backing.contents());
    }

    @Test
    void heldCompletionsWaitForTheTestToReleaseThem() {
        IoSource file = fake.open(executor, fake.newFile("held".getBytes()));
        fake.holdCompletions(true);
        CompletableFuture<Integer> read = file.read(0, new byte[4]);
        executor.runUntil(executor.sleep(Duration.ofSeconds(1)));
        assertFalse(read.isDone());
        assertEquals(1, fake.heldCount());
        fake.holdCompletions(false);
        Thread.ofPlatform().start(fake::releaseHeld);
        assertEquals(4, executor.runUntil(read));
        assertEquals(0, fake.heldCount());
    }

    @Test
    void aCancelledHeldOperationKeepsItsMemoryUntilReleased() {
        var pipe = fake.newPipe(executor);
        IoBuffer buffer = IoBuffer.allocate(8);
        executor.runUntil(pipe.writeEnd().write(-1, "data".getBytes()));
        fake.holdCompletions(true);
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, 8));
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertTrue(read.cancel(true));
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertEquals(2, buffer.refCount(), "the kernel has not handed the buffer back");
        fake.holdCompletions(false);
        fake.releaseHeld();
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertEquals(1, buffer.refCount());
        buffer.close();
    }

    @Test
    void aDrainDeadlineLeaksMemoryTheKernelStillHoldsAndNeverFreesIt() {
        RawExecutor<FakeReactor> quick = create(Duration.ofMillis(50));
        FakeReactor reactor = quick.reactor();
        var pipe = reactor.newPipe(quick);
        IoBuffer buffer = IoBuffer.allocate(8);
        quick.runUntil(pipe.writeEnd().write(-1, "x".getBytes()));
        reactor.holdCompletions(true);
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, 8));
        quick.runUntil(quick.sleep(Duration.ofMillis(1)));
        quick.close();
        assertTrue(quick.isTerminated());
        assertTrue(reactor.isClosed());
        assertTrue(read.isCancelled());
        assertEquals(2, buffer.refCount(), "memory the kernel may still write is not released");
        buffer.close();
        assertFalse(buffer.isFreed(), "and therefore never freed");
    }

    @Test
    void theOperationLogRecordsEveryCompletedOperation() {
        IoSource file = fake.open(executor, fake.newFile(new byte[4]));
        executor.runUntil(file.write(1, new byte[] {7}));
        executor.runUntil(file.fdatasync());
        List<LoggedOperation> log = fake.operationLog();
        assertEquals(2, log.size());
        assertEquals(Kind.WRITE, log.get(0).kind());
        assertEquals(1, log.get(0).offset());
        assertEquals(1, log.get(0).result());
        assertEquals(Kind.FDATASYNC, log.get(1).kind());
        assertEquals(2, log.get(1).sequence());
    }

    /**
     * An operation issued from another thread and finished from outside before the loop got to it
     * never reaches the reactor: the operation log, which records every operation the reactor
     * completed (cancelled ones too), stays empty, and the memory hold is dropped.
     */
    @Test
    void anOperationFinishedFromOutsideBeforeItStartedNeverReachesTheReactor() throws Exception {
        var pipe = fake.newPipe(executor);
        IoBuffer buffer = IoBuffer.allocate(8);
        Thread issuer = Thread.ofPlatform().start(() -> {
            CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, 8));
            assertTrue(read.completeExceptionally(new IllegalStateException("not wanted")));
        });
        issuer.join();
        assertEquals(2, buffer.refCount(), "held until the loop finishes the operation");
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertEquals(1, buffer.refCount());
        assertTrue(fake.operationLog().isEmpty(), "the reactor never saw it: " + fake.operationLog());
        buffer.close();
    }

    /** A fake file's size limit answers as a file system's does: EFBIG, never an exception from the reactor. */
    @Test
    void writesAndFallocatePastTheLargestFakeFileFailWithEfbig() {
        FakeFile fakeFile = fake.newFile(new byte[4]);
        IoSource file = fake.open(executor, fakeFile);
        for (CompletableFuture<?> refused : List.of(file.write(FakeFile.MAX_SIZE, new byte[1]),
                file.write(Long.MAX_VALUE - 100, new byte[16]), file.fallocate(FakeFile.MAX_SIZE - 1, 2),
                file.punchHole(Long.MAX_VALUE - 10, 5), file.writeZeroes(Long.MAX_VALUE - 10, 5))) {
            CompletionException failure = assertThrows(CompletionException.class, () -> executor.runUntil(refused));
            assertEquals("EFBIG", assertInstanceOf(ErrnoException.class, failure.getCause()).symbol());
        }
        assertEquals(0, executor.runUntil(file.write(FakeFile.MAX_SIZE, new byte[0])), "writing nothing is 0 anywhere");
        assertEquals(4, fakeFile.size(), "nothing was written or allocated");
    }

    @Test
    void theFakeHasNoKernelDescriptors() throws IOException {
        try (Fd.Pipe pipe = Fd.pipe()) {
            IOException refused = assertThrows(IOException.class, () -> executor.register(pipe.readEnd()));
            assertTrue(refused.getMessage().contains("newPipe"), refused.getMessage());
        }
    }
}
