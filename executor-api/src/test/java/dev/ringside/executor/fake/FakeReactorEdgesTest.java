package dev.ringside.executor.fake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake reactor answering as the kernel does at edges its own tests and the contract suite missed. */
class FakeReactorEdgesTest {

    private final RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new);
    private final FakeReactor fake = executor.reactor();

    FakeReactorEdgesTest() throws IOException {
    }

    @AfterEach
    void close() {
        executor.close();
    }

    /** A pipe write of at most PIPE_BUF bytes waits until it fits whole, as on Linux, and two never interleave. */
    @Test
    void aPipeWriteOfAtMostPipeBufBytesIsAtomic() {
        FakePipe pipe = fake.newPipe(executor);
        assertEquals(65530, executor.runUntil(pipe.writeEnd().write(-1, new byte[65530])));
        byte[] a = new byte[100], b = new byte[100];
        Arrays.fill(a, (byte) 'A');
        Arrays.fill(b, (byte) 'B');
        CompletableFuture<Integer> first = pipe.writeEnd().write(-1, a);
        CompletableFuture<Integer> second = pipe.writeEnd().write(-1, b);
        CompletableFuture<Void> writable = pipe.writeEnd().waitWritable();
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertTrue(!first.isDone() && !second.isDone() && !writable.isDone(), "6 free bytes: both wait, and so does POLLOUT");
        byte[] sink = new byte[65530];
        int drained = 0;
        while (drained < sink.length) {
            drained += executor.runUntil(pipe.readEnd().read(-1, Arrays.copyOf(sink, sink.length - drained)));
        }
        assertEquals(100, executor.runUntil(first));
        assertEquals(100, executor.runUntil(second));
        executor.runUntil(writable);
        byte[] messages = new byte[200];
        int got = 0;
        while (got < 200) {
            byte[] chunk = new byte[200 - got];
            int n = executor.runUntil(pipe.readEnd().read(-1, chunk));
            System.arraycopy(chunk, 0, messages, got, n);
            got += n;
        }
        assertEquals("A".repeat(100) + "B".repeat(100), new String(messages, java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** The virtual clock saturates: it never goes negative or backwards. */
    @Test
    void theClockSaturatesInsteadOfWrapping() {
        fake.advance(Duration.ofNanos(Long.MAX_VALUE));
        long saturated = fake.nanoTime();
        assertTrue(saturated > 0, "nanoTime " + saturated);
        fake.advance(ChronoUnitForever.DURATION);
        assertEquals(saturated, fake.nanoTime(), "still saturated, not back");
    }

    /** Turning holding off and releasing from another thread never strands a completion. */
    @Test
    void holdingOffAndReleasingFromAnotherThreadStrandsNothing() throws Exception {
        IoSource file = fake.open(executor, fake.newFile(new byte[8]));
        AtomicLong completed = new AtomicLong();
        for (int c = 0; c < 8; c++) {
            executor.execute(new Runnable() {
                @Override
                public void run() {
                    file.nop().thenRun(() -> {
                        completed.incrementAndGet();
                        run();
                    });
                }
            });
        }
        Thread loop = Thread.ofPlatform().start(executor::run);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < end) {
            fake.holdCompletions(true);
            Thread.onSpinWait();
            fake.holdCompletions(false);
            fake.releaseHeld();
            if (fake.heldCount() > 0) {
                Thread.sleep(50);
                assertEquals(0, fake.heldCount(), "a completion held with holding off, after " + completed.get());
            }
        }
        executor.shutdownNow();
        loop.join();
    }

    /** An operation finished from outside after releaseHeld is logged as cancel-requested, as while held. */
    @Test
    void theLogRecordsACancelThatCameAfterReleaseHeld() {
        IoSource file = fake.open(executor, fake.newFile(new byte[8]));
        fake.holdCompletions(true);
        CompletableFuture<Integer> read = file.read(0, new byte[4]);
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        fake.holdCompletions(false);
        fake.releaseHeld();
        read.completeExceptionally(new TimeoutException("gave up")); // cancels it "in the kernel"
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertTrue(fake.operationLog().get(0).cancelRequested(), fake.operationLog().get(0).toString());
    }

    /** After close, releaseHeld delivers nothing and says so; the held memory stays held. */
    @Test
    void releaseHeldAfterCloseDeliversNothing() {
        FakePipe pipe = fake.newPipe(executor);
        IoBuffer buffer = IoBuffer.allocate(8);
        executor.runUntil(pipe.writeEnd().write(-1, "x".getBytes()));
        fake.holdCompletions(true);
        pipe.readEnd().read(-1, buffer, new MemRegion(0, 8));
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        executor.close();
        assertEquals(0, fake.releaseHeld());
        assertEquals(1, fake.heldCount(), "still held, leaked with the close");
        assertEquals(2, buffer.refCount());
    }

    /** An idle loop on an interrupted thread parks (it does not spin on the interrupt) and keeps the interrupt. */
    @Test
    void anIdleLoopOnAnInterruptedThreadParks() throws Exception {
        CompletableFuture<Void> later = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicBoolean keptInterrupt = new java.util.concurrent.atomic.AtomicBoolean();
        Thread loop = Thread.ofPlatform().start(() -> {
            Thread.currentThread().interrupt();
            executor.runUntil(later);
            keptInterrupt.set(Thread.interrupted());
        });
        int parked = 0, samples = 0;
        for (int i = 0; i < 200 && parked < 20; i++, samples++) {
            Thread.sleep(5);
            if (loop.getState() == Thread.State.WAITING) {
                parked++;
            } else {
                parked = 0; // twenty in a row, or the loop never settles into a park
            }
        }
        executor.execute(() -> later.complete(null));
        loop.join();
        assertEquals(20, parked, "the idle loop was seen parked 20 times in a row within " + samples + " samples");
        assertTrue(keptInterrupt.get(), "the interrupt is kept");
    }

    /** A duration longer than Long.MAX_VALUE nanoseconds. */
    private static final class ChronoUnitForever {
        static final Duration DURATION = java.time.temporal.ChronoUnit.FOREVER.getDuration();
    }
}
