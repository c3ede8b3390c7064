package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A {@code close()} from another thread that finds the loop running is drained by that loop, even when
 * the loop is already on its way out of {@code runUntil}: it matters for a reactor bound to one thread
 * (io_uring with {@code singleIssuer(true)}), which refuses a drain on any other.
 */
class CloseWhileLeavingTest {

    /** A fake reactor bound to the first thread that runs its loop, which closes the executor from another thread as the loop leaves. */
    static final class BoundReactor extends FakeDelegatingReactor {
        Thread bound;
        RawExecutor<?> executor;
        /** Set by the test: the next onThreadStop starts a close() on another thread and waits until it has begun. */
        boolean closeAsTheLoopLeaves;
        CompletableFuture<Throwable> closeOutcome;

        @Override
        public void onThreadStart() {
            if (bound == null) {
                bound = Thread.currentThread();
            } else if (bound != Thread.currentThread()) {
                throw new IllegalStateException("bound to " + bound.getName());
            }
        }

        @Override
        public void onThreadStop() {
            if (!closeAsTheLoopLeaves) {
                return;
            }
            closeAsTheLoopLeaves = false;
            closeOutcome = closeOnAnotherThread(executor);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!executor.isShutdown() && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait(); // the close has begun while this thread still holds the loop
            }
        }
    }

    /** Calls {@code executor.close()} on a new thread; the future holds what it threw, or null. */
    static CompletableFuture<Throwable> closeOnAnotherThread(RawExecutor<?> executor) {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                executor.close();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        return outcome;
    }

    @Test
    void aCloseThatArrivesAsRunUntilReturnsIsDrainedByTheLeavingLoop() throws Exception {
        RawExecutor<BoundReactor> executor = RawExecutor.create(BoundReactor::new);
        BoundReactor reactor = executor.reactor();
        reactor.executor = executor;
        assertEquals("ran", executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture("ran"))));
        reactor.closeAsTheLoopLeaves = true;
        assertEquals("again", executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture("again"))));
        assertNull(reactor.closeOutcome.get(10, TimeUnit.SECONDS), "the close from the other thread was not refused");
        assertTrue(executor.isTerminated(), "the loop drained on its way out of runUntil");
        assertEquals(Thread.currentThread(), reactor.bound);
    }

    @Test
    void aCloseFromAnotherThreadWhileNoLoopRunsIsRefusedByABoundReactor() throws Exception {
        RawExecutor<BoundReactor> executor = RawExecutor.create(BoundReactor::new);
        executor.reactor().executor = executor;
        executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
        Throwable failure = closeOnAnotherThread(executor).get(10, TimeUnit.SECONDS);
        assertTrue(failure instanceof IllegalStateException, String.valueOf(failure));
        assertTrue(executor.isShutdown() && !executor.isTerminated(), "closing, not terminated");
        assertThrows(ExecutorClosedException.class, () -> executor.execute(() -> { }));
        executor.close(); // the bound thread finishes it
        assertTrue(executor.isTerminated());
    }
}
