package dev.ringside.executor.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.BackingMemory;
import dev.ringside.executor.ErrnoException;
import dev.ringside.executor.ExecutorClosedException;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.Reactor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link IoSource} on a reactor: reads and writes at an offset and at the current
 * position, scatter/gather, heap memory, pipes, readiness, concurrency, cancellation, the memory
 * hold, errors. A reactor's test extends this class and provides a {@link ReactorFixture}; every test
 * here must pass unchanged.
 */
public abstract class IoSourceContract<R extends Reactor> extends ContractSupport<R> {

    @Test
    void writeAndReadAtAnOffset() throws Exception {
        var file = file(new byte[0]);
        assertEquals(5, executor.runUntil(file.source().write(10, bytes("hello"))));
        byte[] expected = new byte[15];
        System.arraycopy(bytes("hello"), 0, expected, 10, 5);
        assertArrayEquals(expected, file.contents());
        byte[] into = new byte[5];
        assertEquals(5, executor.runUntil(file.source().read(10, into)));
        assertArrayEquals(bytes("hello"), into);
    }

    @Test
    void readsAndWritesAtTheCurrentPositionAdvanceIt() throws Exception {
        var file = file(new byte[0]);
        IoSource source = file.source();
        executor.runUntil(source.write(IoSource.CURRENT_POSITION, bytes("abc")));
        executor.runUntil(source.write(IoSource.CURRENT_POSITION, bytes("def")));
        assertArrayEquals(bytes("abcdef"), file.contents());
        var reader = file(bytes("0123456789"));
        byte[] first = new byte[4], second = new byte[4];
        executor.runUntil(reader.source().read(IoSource.CURRENT_POSITION, first));
        executor.runUntil(reader.source().read(IoSource.CURRENT_POSITION, second));
        assertArrayEquals(bytes("0123"), first);
        assertArrayEquals(bytes("4567"), second);
    }

    /**
     * Reads and writes at the current position issued together run one after another in the order
     * they were issued, each from where the one before ended, as successive read(2)/write(2) calls
     * would; one cancelled while it waits never runs.
     */
    @Test
    void readsAndWritesAtTheCurrentPositionIssuedTogetherRunInIssueOrder() throws Exception {
        var file = file(bytes("aaaabbbbccccddddeeee"));
        IoSource source = file.source();
        List<byte[]> into = new ArrayList<>();
        List<CompletableFuture<Integer>> reads = new ArrayList<>();
        executor.runUntil(executor.spawn(() -> {
            for (int i = 0; i < 5; i++) {
                into.add(new byte[4]);
                reads.add(source.read(IoSource.CURRENT_POSITION, into.get(i)));
            }
            assertTrue(reads.get(2).cancel(false), "the third read waits: it can be cancelled before it runs");
            return CompletableFuture.allOf(reads.get(0), reads.get(1), reads.get(3), reads.get(4));
        }));
        assertEquals(List.of("aaaa", "bbbb", "cccc", "dddd"),
                List.of(new String(into.get(0)), new String(into.get(1)), new String(into.get(3)), new String(into.get(4))),
                "the reads in issue order; the cancelled one took nothing");
        assertTrue(reads.get(2).isCancelled());
        assertEquals(4, executor.runUntil(source.read(IoSource.CURRENT_POSITION, new byte[8])), "eeee is left");
        List<CompletableFuture<Integer>> writes = new ArrayList<>();
        executor.runUntil(executor.spawn(() -> {
            for (String chunk : List.of("1", "22", "333")) {
                writes.add(source.write(IoSource.CURRENT_POSITION, bytes(chunk)));
            }
            return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
        }));
        assertArrayEquals(bytes("aaaabbbbccccddddeeee122333"), file.contents(), "the writes in issue order, at the end");
    }

    @Test
    void aReadAtEndOfFileCompletesWithZeroAndAShortReadWithWhatIsThere() throws Exception {
        var file = file(bytes("abc"));
        assertEquals(0, executor.runUntil(file.source().read(3, new byte[8])));
        byte[] into = new byte[8];
        assertEquals(2, executor.runUntil(file.source().read(1, into)));
        assertArrayEquals(bytes("bc"), Arrays.copyOf(into, 2));
    }

    @Test
    void gatherWriteAndScatterRead() throws Exception {
        var file = file(new byte[0]);
        try (IoBuffer out = IoBuffer.copyOf(bytes("..AA...BBB.C")); IoBuffer in = IoBuffer.allocate(16)) {
            int written = executor.runUntil(file.source().write(0, out,
                    new MemRegion(2, 2), new MemRegion(7, 3), new MemRegion(11, 1)));
            assertEquals(6, written);
            assertArrayEquals(bytes("AABBBC"), file.contents());
            int read = executor.runUntil(file.source().read(0, in, new MemRegion(10, 2), new MemRegion(0, 4)));
            assertEquals(6, read);
            assertArrayEquals(bytes("BBBC"), in.toByteArray(0, 4));
            assertArrayEquals(bytes("AA"), in.toByteArray(10, 2));
        }
    }

    /** The operation keeps the regions it was given: the caller may reuse its array at once. */
    @Test
    void aCallersRegionArrayMayBeReusedAsSoonAsTheCallReturns() throws Exception {
        var file = file(new byte[0]);
        try (IoBuffer out = IoBuffer.copyOf(bytes("AA..BB"))) {
            MemRegion[] regions = {new MemRegion(0, 2), new MemRegion(4, 2)};
            CompletableFuture<Integer> write = file.source().write(0, out, regions);
            regions[0] = new MemRegion(2, 2); // reused before the loop has even started the write
            regions[1] = new MemRegion(2, 2);
            assertEquals(4, executor.runUntil(write));
            assertArrayEquals(bytes("AABB"), file.contents());
        }
    }

    @Test
    void byteBuffersHeapAndDirectAdvanceTheirPositions() throws Exception {
        var file = file(new byte[0]);
        ByteBuffer heap = ByteBuffer.wrap(bytes("xxheapyy")).position(2).limit(6);
        assertEquals(4, executor.runUntil(file.source().write(0, heap)));
        assertEquals(6, heap.position());
        ByteBuffer direct = ByteBuffer.allocateDirect(4).put(bytes("dir!")).flip();
        assertEquals(4, executor.runUntil(file.source().write(4, direct)));
        assertEquals(4, direct.position());
        assertArrayEquals(bytes("heapdir!"), file.contents());
        ByteBuffer into = ByteBuffer.allocate(10).position(1);
        assertEquals(8, executor.runUntil(file.source().read(0, into)));
        assertEquals(9, into.position());
        assertArrayEquals(bytes("heapdir!"), Arrays.copyOfRange(into.array(), 1, 9));
    }

    @Test
    void pipeBytesArriveInOrderAndAReadReturnsWhatIsAvailable() throws Exception {
        var pipe = pipe();
        executor.runUntil(pipe.writeEnd().write(-1, bytes("first")));
        executor.runUntil(pipe.writeEnd().write(-1, bytes("second")));
        byte[] into = new byte[100];
        int n = executor.runUntil(pipe.readEnd().read(-1, into));
        assertEquals("firstsecond", new String(into, 0, n, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void aPipeReadWaitsForAWriteAndEndOfFileIsZero() throws Exception {
        var pipe = pipe();
        byte[] into = new byte[4];
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, into);
        executor.runUntil(executor.sleep(Duration.ofMillis(5)));
        assertFalse(read.isDone(), "a read of an empty pipe waits");
        executor.runUntil(pipe.writeEnd().write(-1, bytes("ping")));
        assertEquals(4, executor.runUntil(read));
        assertArrayEquals(bytes("ping"), into);
        pipe.writeEnd().close();
        assertEquals(0, executor.runUntil(pipe.readEnd().read(-1, new byte[4])));
    }

    @Test
    void waitReadableAndWaitWritable() throws Exception {
        var pipe = pipe();
        executor.runUntil(pipe.writeEnd().waitWritable());
        CompletableFuture<Void> readable = pipe.readEnd().waitReadable();
        executor.runUntil(executor.sleep(Duration.ofMillis(5)));
        assertFalse(readable.isDone());
        executor.runUntil(pipe.writeEnd().write(-1, bytes("!")));
        executor.runUntil(readable);
        assertTrue(readable.isDone() && !readable.isCompletedExceptionally());
    }

    @Test
    void concurrentOperationsAllCompleteWithTheirOwnData() throws Exception {
        byte[] contents = new byte[64 * 128];
        for (int i = 0; i < contents.length; i++) {
            contents[i] = (byte) (i / 128);
        }
        var file = file(contents);
        List<CompletableFuture<Integer>> reads = new ArrayList<>();
        List<byte[]> targets = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            byte[] into = new byte[128];
            targets.add(into);
            reads.add(file.source().read(i * 128L, into));
        }
        List<ReactorFixture.PipeEnds> pipes = new ArrayList<>();
        List<CompletableFuture<Integer>> pipeReads = new ArrayList<>();
        List<byte[]> pipeTargets = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            var pipe = pipe();
            pipes.add(pipe);
            byte[] into = new byte[1];
            pipeTargets.add(into);
            pipeReads.add(pipe.readEnd().read(-1, into));
        }
        for (int i = 0; i < 16; i++) {
            pipes.get(i).writeEnd().write(-1, new byte[] {(byte) i});
        }
        executor.runUntil(CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)));
        executor.runUntil(CompletableFuture.allOf(pipeReads.toArray(CompletableFuture[]::new)));
        for (int i = 0; i < 64; i++) {
            assertEquals(128, reads.get(i).join());
            byte[] expected = new byte[128];
            Arrays.fill(expected, (byte) i);
            assertArrayEquals(expected, targets.get(i));
        }
        for (int i = 0; i < 16; i++) {
            assertEquals(1, pipeReads.get(i).join());
            assertEquals((byte) i, pipeTargets.get(i)[0]);
        }
    }

    @Test
    void cancelBeforeCompletionFailsAtOnceButTheMemoryStaysHeldUntilTheKernelReturnsIt() throws Exception {
        PendingRead pending = pendingRead(32);
        var pipe = pending.pipe();
        IoBuffer buffer = closeLater(pending.buffer());
        CompletableFuture<Integer> read = pending.read();
        assertEquals(2, buffer.refCount(), "the operation holds the buffer");
        assertTrue(read.cancel(true));
        assertTrue(read.isCancelled());
        assertThrows(CancellationException.class, read::join);
        assertEquals(2, buffer.refCount(), "cancelling the future does not release the kernel's hold");
        loopUntil(() -> buffer.refCount() == 1);
        assertNextReadGetsWhatIsWrittenNow(pipe);
    }

    /** The pipe still works, and reads given up on took none of the bytes written from now on. */
    private void assertNextReadGetsWhatIsWrittenNow(ReactorFixture.PipeEnds pipe) {
        executor.runUntil(pipe.writeEnd().write(-1, bytes("after")));
        byte[] into = new byte[8];
        assertEquals(5, executor.runUntil(pipe.readEnd().read(-1, into)), "no read given up on took a byte");
        assertArrayEquals(bytes("after"), Arrays.copyOf(into, 5));
    }

    /**
     * Finishing an operation's future from outside gives up on the operation: {@code orTimeout},
     * {@code complete} (from another thread) and {@code completeExceptionally} (from another thread,
     * possibly before the loop started it) each cancel it in the kernel, the memory stays held until
     * the kernel hands it back, and the abandoned reads take none of the bytes written afterwards.
     */
    @Test
    void finishingAFutureFromOutsideCancelsItsOperation() throws Exception {
        var pipe = pipe();
        IoBuffer buffer = closeLater(IoBuffer.allocate(16));

        CompletableFuture<Integer> timedOut = pipe.readEnd().read(-1, buffer, new MemRegion(0, 16));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertEquals(2, buffer.refCount(), "the read holds the buffer");
        timedOut.orTimeout(1, TimeUnit.MILLISECONDS);
        ExecutionException timeout = assertThrows(ExecutionException.class, () -> timedOut.get(10, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, timeout.getCause());
        assertEquals(2, buffer.refCount(), "timing out does not release the kernel's hold");
        loopUntil(() -> buffer.refCount() == 1); // cancelled in the kernel, which handed the buffer back

        CompletableFuture<Integer> completed = pipe.readEnd().read(-1, buffer, new MemRegion(0, 16));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertEquals(2, buffer.refCount(), "the read holds the buffer");
        Thread other = Thread.ofPlatform().start(() -> assertTrue(completed.complete(42)));
        other.join();
        assertEquals(42, completed.join(), "the caller's value stands");
        assertEquals(2, buffer.refCount(), "completing the future does not release the kernel's hold");
        loopUntil(() -> buffer.refCount() == 1);

        AtomicReference<CompletableFuture<Integer>> failedEarly = new AtomicReference<>();
        Thread issuer = Thread.ofPlatform().start(() -> {
            CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, 16));
            read.completeExceptionally(new IllegalStateException("not wanted")); // the loop may not have started it
            failedEarly.set(read);
        });
        issuer.join();
        loopUntil(() -> buffer.refCount() == 1);
        assertInstanceOf(IllegalStateException.class,
                assertThrows(CompletionException.class, failedEarly.get()::join).getCause());

        assertNextReadGetsWhatIsWrittenNow(pipe);
    }

    /**
     * A read into a {@code byte[]} (through a bounce buffer) that the kernel has finished, and whose
     * bytes the loop has copied into the array, can no longer be cancelled or completed from outside,
     * as if it were complete: the caller gets the bytes, never an array written after it was told the
     * read had ended.
     */
    @Test
    void aBounceReadTheKernelFinishedIsDeliveredNotCancelled() throws Exception {
        var first = pipe();
        var second = pipe();
        executor.runUntil(first.writeEnd().write(-1, bytes("one")));
        executor.runUntil(second.writeEnd().write(-1, bytes("two")));
        byte[] intoFirst = new byte[8], intoSecond = new byte[8];
        AtomicReference<CompletableFuture<Integer>> secondRead = new AtomicReference<>();
        boolean[] outsideResults = new boolean[3];
        int count = inTask(() -> {
            CompletableFuture<Integer> readFirst = first.readEnd().read(-1, intoFirst);
            secondRead.set(second.readEnd().read(-1, intoSecond)); // data is there: it finishes with the first
            return readFirst.thenCompose(n -> {
                CompletableFuture<Integer> other = secondRead.get();
                outsideResults[0] = other.cancel(false);
                outsideResults[1] = other.complete(-7);
                outsideResults[2] = other.completeExceptionally(new IllegalStateException("too late"));
                return other;
            });
        });
        assertFalse(outsideResults[0] || outsideResults[1] || outsideResults[2],
                "the loop had claimed the read: cancel, complete and completeExceptionally all fail");
        assertEquals(3, count);
        assertFalse(secondRead.get().isCancelled());
        assertArrayEquals(bytes("two"), Arrays.copyOf(intoSecond, 3));
        assertArrayEquals(bytes("one"), Arrays.copyOf(intoFirst, 3));
    }

    /**
     * A caller that shrinks its heap ByteBuffer while a read into it is in flight breaks the read's
     * contract; the read then fails with the copy's exception instead of hanging, and the pipe's bytes
     * are gone with it, as they would be with a read into too small a buffer.
     */
    @Test
    void aByteBufferShrunkWhileItsReadIsInFlightFailsTheRead() throws Exception {
        var pipe = pipe();
        ByteBuffer target = ByteBuffer.allocate(8);
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, target);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        target.limit(0);
        executor.runUntil(pipe.writeEnd().write(-1, bytes("data")));
        CompletionException failure = assertThrows(CompletionException.class, () -> executor.runUntil(read));
        assertInstanceOf(IndexOutOfBoundsException.class, failure.getCause());
        assertEquals(0, target.position());
    }

    @Test
    void aNopRoundTripsThroughTheReactor() throws Exception {
        var pipe = pipe();
        var file = file(bytes("x"));
        List<CompletableFuture<Void>> nops = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            nops.add((i % 2 == 0 ? pipe.readEnd() : file.source()).nop());
        }
        executor.runUntil(CompletableFuture.allOf(nops.toArray(CompletableFuture[]::new)));
        assertTrue(nops.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
    }

    @Test
    void cancelAfterCompletionChangesNothing() throws Exception {
        var file = file(bytes("data"));
        byte[] into = new byte[4];
        CompletableFuture<Integer> read = file.source().read(0, into);
        assertEquals(4, executor.runUntil(read));
        assertFalse(read.cancel(true));
        assertEquals(4, read.join());
        assertArrayEquals(bytes("data"), into);
    }

    @Test
    void aPendingReadHoldsItsBufferAfterTheOwnerReleasesIt() throws Exception {
        PendingRead pending = pendingRead(16);
        CompletableFuture<Integer> read = pending.read();
        IoBuffer buffer = pending.buffer();
        assertEquals(2, buffer.refCount());
        buffer.close(); // the owner lets go; the kernel still may write
        assertEquals(1, buffer.refCount());
        assertFalse(buffer.isFreed());
        executor.runUntil(pending.pipe().writeEnd().write(-1, bytes("late")));
        assertEquals(4, executor.runUntil(read));
        assertTrue(buffer.isFreed(), "the completion released the last reference");
        assertThrows(IllegalStateException.class, buffer::segment);
    }

    /**
     * The caller cannot give away the reference a pending read holds: closing its buffer twice, or
     * releasing it once more, leaves the memory allocated until the kernel hands it back, and the read
     * then completes with its bytes, written into memory that is still there.
     */
    @Test
    void aPendingReadKeepsItsBufferAllocatedWhateverTheCallerReleases() throws Exception {
        PendingRead pending = pendingRead(8);
        IoBuffer buffer = pending.buffer();
        buffer.close();
        buffer.close();
        assertThrows(IllegalStateException.class, buffer::release, "no caller's reference is left");
        assertFalse(buffer.isFreed());
        assertEquals(1, buffer.refCount(), "the read's own reference");
        executor.runUntil(pending.pipe().writeEnd().write(-1, bytes("held")));
        assertEquals(4, executor.runUntil(pending.read()));
        assertTrue(buffer.isFreed(), "freed by the read's completion, the last reference");
    }

    /** A read or write of nothing answers 0 at once, also behind a pending read or write, as read(2)/write(2) do. */
    @Test
    void aCallOfNothingDoesNotWaitBehindAPendingOne() throws Exception {
        PendingRead pending = pendingRead(4);
        var pipe = pending.pipe();
        CompletableFuture<Integer> nothingRead = pipe.readEnd().read(-1, new byte[0]);
        executor.runUntil(CompletableFuture.anyOf(nothingRead, executor.sleep(Duration.ofSeconds(10))));
        assertEquals(0, nothingRead.getNow(-1), "a read of nothing behind a pending read");
        var full = pipe();
        fixture().fill(full);
        CompletableFuture<Integer> blocked = full.writeEnd().write(-1, bytes("x"));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        CompletableFuture<Integer> nothingWritten = full.writeEnd().write(-1, new byte[0]);
        executor.runUntil(CompletableFuture.anyOf(nothingWritten, executor.sleep(Duration.ofSeconds(10))));
        assertEquals(0, nothingWritten.getNow(-1), "a write of nothing behind a blocked write");
        assertFalse(blocked.isDone());
        blocked.cancel(false);
        executor.runUntil(pipe.writeEnd().write(-1, bytes("abcd")));
        assertEquals(4, executor.runUntil(pending.read()));
        pending.buffer().close();
    }

    /** A caller's own {@link BackingMemory} over any segment (the interface is public). */
    private record Caller(MemorySegment segment) implements BackingMemory {
        @Override
        public void retain() {
        }

        @Override
        public void release() {
        }

        @Override
        public int refCount() {
            return 1;
        }
    }

    /** Regions whose lengths add up past 2^63 are refused, not wrapped around into a small total. */
    @Test
    void regionsWhoseTotalWouldOverflowAreRefused() throws Exception {
        var file = file(new byte[8]);
        Caller huge = new Caller(MemorySegment.NULL.reinterpret(Long.MAX_VALUE)); // a view of a large mapping
        IllegalArgumentException tooMuch = assertThrows(IllegalArgumentException.class, () -> file.source().read(0, huge,
                new MemRegion(1, Long.MAX_VALUE - 1), new MemRegion(1, Long.MAX_VALUE - 1), new MemRegion(0, 4)));
        assertTrue(tooMuch.getMessage().contains("at most " + Integer.MAX_VALUE), tooMuch.getMessage());
    }

    /** Memory the kernel cannot use, or may not write, is refused before anything is submitted. */
    @Test
    void heapAndReadOnlyMemoryAreRefusedBeforeSubmission() throws Exception {
        var file = file(bytes("0123456789"));
        IllegalArgumentException heap = assertThrows(IllegalArgumentException.class,
                () -> file.source().read(0, new Caller(MemorySegment.ofArray(new byte[4])), new MemRegion(0, 4)));
        assertTrue(heap.getMessage().contains("heap segment"), heap.getMessage());
        IoBuffer buffer = closeLater(IoBuffer.allocate(4));
        IllegalArgumentException readOnly = assertThrows(IllegalArgumentException.class,
                () -> file.source().read(0, new Caller(buffer.segment().asReadOnly()), new MemRegion(0, 4)));
        assertTrue(readOnly.getMessage().contains("read-only"), readOnly.getMessage());
        assertArrayEquals(new byte[4], buffer.toByteArray(), "nothing was written");
        buffer.segment().copyFrom(MemorySegment.ofArray(bytes("abcd")));
        assertEquals(4, executor.runUntil(file.source().write(0, new Caller(buffer.segment().asReadOnly()), new MemRegion(0, 4))),
                "a write only reads its memory");
        assertArrayEquals(bytes("abcd456789"), file.contents());
    }

    @Test
    void aWriteBlockedOnAFullPipeHoldsItsBufferEvenWhenCancelled() throws Exception {
        var pipe = pipe();
        fixture().fill(pipe);
        IoBuffer buffer = closeLater(IoBuffer.copyOf(bytes("z")));
        CompletableFuture<Integer> write = pipe.writeEnd().write(-1, buffer, new MemRegion(0, 1));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(write.isDone(), "the write waits for room");
        assertEquals(2, buffer.refCount());
        assertTrue(write.cancel(false));
        assertEquals(2, buffer.refCount(), "cancelling the future does not release the kernel's hold");
        loopUntil(() -> buffer.refCount() == 1);
    }

    @Test
    void anIoFutureCompletesOnTheLoopThreadWhenIssuedFromAnotherThread() throws Exception {
        var file = file(bytes("threads"));
        AtomicBoolean onLoop = new AtomicBoolean();
        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> file.source().read(0, new byte[7])
                .whenComplete((n, e) -> onLoop.set(executor.isLoopThread()))
                .whenComplete((n, e) -> read.complete(n))).join();
        assertEquals(7, executor.runUntil(read));
        assertTrue(onLoop.get());
    }

    @Test
    void argumentsThatCanNeverWorkThrowBeforeAnythingIsSubmitted() throws Exception {
        var file = file(bytes("0123456789"));
        IoSource source = file.source();
        IoBuffer buffer = closeLater(IoBuffer.allocate(8));
        assertThrows(IllegalArgumentException.class, () -> source.read(-2, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> source.read(0, buffer, new MemRegion(4, 5)));
        assertThrows(IllegalArgumentException.class, () -> source.write(0, buffer));
        assertThrows(IllegalArgumentException.class, () -> new MemRegion(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> new MemRegion(0, -2));
        assertThrows(IllegalArgumentException.class, () -> source.punchHole(0, 0));
        assertThrows(IllegalArgumentException.class, () -> source.writeZeroes(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> source.fallocate(Long.MAX_VALUE, 2));
        assertEquals(1, buffer.refCount(), "a refused call takes no hold");
        IoBuffer freed = IoBuffer.allocate(4);
        freed.close();
        assertThrows(IllegalStateException.class, () -> source.read(0, freed, new MemRegion(0, 4)));
        source.close();
        assertTrue(source.isClosed());
        assertThrows(IllegalStateException.class, () -> source.read(0, new byte[1]));
        assertThrows(IllegalStateException.class, source::fsync);
    }

    /**
     * One operation takes from 1 to IOV_MAX (1024) memory regions on every reactor, as the kernel's
     * vectored calls do; more is refused before anything is submitted, naming the call and the limit.
     */
    @Test
    void anOperationTakesUpToIovMaxRegions() throws Exception {
        var file = file(new byte[0]);
        IoBuffer buffer = closeLater(IoBuffer.allocate(1025));
        MemRegion[] regions = new MemRegion[1025];
        for (int i = 0; i < regions.length; i++) {
            buffer.segment().set(ValueLayout.JAVA_BYTE, i, (byte) i);
            regions[i] = new MemRegion(i, 1);
        }
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> file.source().write(0, buffer, regions));
        assertTrue(tooMany.getMessage().contains("write") && tooMany.getMessage().contains("1024"), tooMany.getMessage());
        assertThrows(IllegalArgumentException.class, () -> file.source().read(0, buffer, regions));
        assertEquals(1, buffer.refCount(), "a refused call takes no hold");

        MemRegion[] most = Arrays.copyOf(regions, 1024);
        assertEquals(1024, executor.runUntil(file.source().write(0, buffer, most)));
        byte[] written = file.contents();
        assertEquals(1024, written.length);
        for (int i = 0; i < 1024; i++) {
            assertEquals((byte) i, written[i], "byte " + i);
        }
    }

    /**
     * Edge cases every reactor answers as the kernel does: reads and writes of nothing complete with 0
     * at once (on an empty pipe, a full one, one with no reader left, and past the end of a file, which
     * does not grow); a range whose end overflows a file offset is {@code EINVAL}; fallocate on a
     * pipe's read end is {@code EBADF} (write access is checked first) and on its write end
     * {@code ESPIPE}; and a wait on the wrong end of a pipe completes once the other end is closed
     * ({@code POLLERR} on the write end, {@code POLLHUP} on the read end), as poll(2) reports them.
     */
    @Test
    void edgeCasesAreAnsweredAsTheKernelAnswersThem() throws Exception {
        var file = file(bytes("0123456789"));
        IoSource source = file.source();
        assertEquals(0, executor.runUntil(source.write(100, new byte[0])));
        assertEquals(10, file.contents().length, "writing nothing past the end does not grow the file");
        assertEquals(0, executor.runUntil(source.write(Long.MAX_VALUE - 5, new byte[0])));
        assertEquals(0, executor.runUntil(source.read(5, new byte[0])));
        assertErrno("EINVAL", source.read(Long.MAX_VALUE, new byte[1]));
        assertErrno("EINVAL", source.read(Long.MAX_VALUE - 1, new byte[16]));
        assertErrno("EINVAL", source.write(Long.MAX_VALUE - 1, new byte[16]));
        assertArrayEquals(bytes("0123456789"), file.contents());

        var pipe = pipe();
        assertEquals(0, executor.runUntil(pipe.readEnd().read(-1, new byte[0])), "an empty pipe: reading nothing does not wait");
        assertErrno("EBADF", pipe.readEnd().fallocate(0, 1));
        assertErrno("EBADF", pipe.readEnd().punchHole(0, 1));
        assertErrno("ESPIPE", pipe.writeEnd().fallocate(0, 1));
        assertErrno("ESPIPE", pipe.writeEnd().writeZeroes(0, 1));
        fixture().fill(pipe);
        assertEquals(0, executor.runUntil(pipe.writeEnd().write(-1, new byte[0])), "a full pipe: writing nothing does not wait");

        var noReader = pipe();
        CompletableFuture<Void> readableOnWriteEnd = noReader.writeEnd().waitReadable();
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        assertFalse(readableOnWriteEnd.isDone(), "a write end is never readable while the pipe has a reader");
        noReader.readEnd().close();
        executor.runUntil(readableOnWriteEnd); // POLLERR
        executor.runUntil(noReader.writeEnd().waitReadable());
        assertEquals(0, executor.runUntil(noReader.writeEnd().write(-1, new byte[0])), "writing nothing: 0, not EPIPE");
        assertErrno("EPIPE", noReader.writeEnd().write(-1, bytes("x")));

        var noWriter = pipe();
        noWriter.writeEnd().close();
        executor.runUntil(noWriter.readEnd().waitWritable()); // POLLHUP
    }

    private void assertErrno(String symbol, CompletableFuture<?> future) {
        CompletionException failure = assertThrows(CompletionException.class, () -> executor.runUntil(future));
        ErrnoException errno = assertInstanceOf(ErrnoException.class, failure.getCause());
        assertEquals(symbol, errno.symbol(), errno.getMessage());
    }

    @Test
    void kernelErrorsNameTheCallTheErrnoAndItsSymbol() throws Exception {
        var pipe = pipe();
        CompletionException wrongEnd = assertThrows(CompletionException.class,
                () -> executor.runUntil(pipe.writeEnd().read(-1, new byte[4])));
        ErrnoException badFd = assertInstanceOf(ErrnoException.class, wrongEnd.getCause());
        assertEquals("EBADF", badFd.symbol());
        assertEquals(9, badFd.errno());
        assertTrue(badFd.getMessage().contains("read") && badFd.getMessage().contains("EBADF"), badFd.getMessage());
        CompletionException seek = assertThrows(CompletionException.class,
                () -> executor.runUntil(pipe.readEnd().read(5, new byte[4])));
        assertEquals("ESPIPE", assertInstanceOf(ErrnoException.class, seek.getCause()).symbol());
    }

    @Test
    void fsyncFdatasyncAndFallocateModes() throws Exception {
        byte[] ones = new byte[8192];
        Arrays.fill(ones, (byte) 1);
        var file = file(ones);
        executor.runUntil(file.source().fsync());
        executor.runUntil(file.source().fdatasync());
        executor.runUntil(file.source().punchHole(0, 4096));
        executor.runUntil(file.source().writeZeroes(4096, 10));
        byte[] after = file.contents();
        assertEquals(8192, after.length, "punchHole and writeZeroes keep the size");
        for (int i = 0; i < 4106; i++) {
            assertEquals(0, after[i], "byte " + i);
        }
        assertEquals(1, after[4106]);
        executor.runUntil(file.source().fallocate(8192, 100));
        assertEquals(8292, file.contents().length, "fallocate grows the file");
    }

    @Test
    void aClosedExecutorRefusesIo() throws Exception {
        var file = file(bytes("x"));
        executor.close();
        assertThrows(ExecutorClosedException.class, () -> file.source().read(0, new byte[1]));
    }

    @Test
    void closingASourceLetsOperationsInFlightFinish() throws Exception {
        var pipe = pipe();
        byte[] into = new byte[3];
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, into);
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        pipe.readEnd().close();
        executor.runUntil(pipe.writeEnd().write(-1, bytes("end")));
        assertEquals(3, executor.runUntil(read));
        assertArrayEquals(bytes("end"), into);
    }
}
