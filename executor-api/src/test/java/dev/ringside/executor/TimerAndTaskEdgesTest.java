package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakeReactor;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Edges of timers and task cancellation, on the fake reactor's virtual time. */
class TimerAndTaskEdgesTest {

    /** shutdown() cancels periodic timers, also one accepted before it that reached the loop after it. */
    @Test
    void aPeriodicTimerScheduledBeforeShutdownNeverRunsAfterIt() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            AtomicInteger runs = new AtomicInteger();
            ScheduledFuture<?> periodic = executor.scheduleAtFixedRate(runs::incrementAndGet, 1, 1, TimeUnit.SECONDS);
            ScheduledFuture<?> delayed = executor.scheduleWithFixedDelay(runs::incrementAndGet, 1, 1, TimeUnit.SECONDS);
            executor.shutdown();
            executor.run();
            assertTrue(executor.isTerminated());
            assertTrue(periodic.isCancelled() && delayed.isCancelled());
            assertEquals(0, runs.get());
        }
    }

    /** A period near Long.MAX_VALUE ns saturates instead of wrapping into the past and starving other timers. */
    @Test
    @Timeout(30) // wrapped into the past, the deadline made the loop spin without ever firing the sleep
    void aPeriodicTimerWithAHugePeriodLetsOtherTimersFire() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            AtomicInteger runs = new AtomicInteger();
            executor.scheduleWithFixedDelay(runs::incrementAndGet, 0, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
            executor.scheduleAtFixedRate(runs::incrementAndGet, 0, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
            long start = executor.reactor().nanoTime();
            executor.runUntil(executor.sleep(Duration.ofSeconds(1)));
            assertEquals(2, runs.get(), "each ran once, at 0");
            assertEquals(1_000_000_000L, executor.reactor().nanoTime() - start, "the sleep fired at its deadline");
        }
    }

    /** A sleep longer than Long.MAX_VALUE ns saturates, as schedule(..., unit) does. */
    @Test
    void aSleepOfAnyLengthSaturates() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            CompletableFuture<Void> forever = executor.sleep(ChronoUnit.FOREVER.getDuration());
            executor.runUntil(executor.sleep(Duration.ofDays(365)));
            assertFalse(forever.isDone());
            forever.cancel(false);
        }
    }

    /** A body that returns a stage already failed with a CancellationException cancels the task's children. */
    @Test
    void aTaskWhoseStageIsAlreadyCancelledCancelsItsChildren() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            AtomicReference<CompletableFuture<Void>> sleep = new AtomicReference<>();
            Task<Object> task = executor.spawn(() -> {
                sleep.set(executor.sleep(Duration.ofHours(1)));
                CompletableFuture<Object> cancelled = new CompletableFuture<>();
                cancelled.cancel(false);
                return cancelled.thenApply(x -> x); // failed with CompletionException(CancellationException)
            });
            assertThrows(CancellationException.class, () -> executor.runUntil(task));
            executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
            assertTrue(sleep.get().isCancelled(), "the task's sleep was cancelled with it");
        }
    }

    /** A task cancelled while its body runs cancels the stage the body then returns. */
    @Test
    void aTaskCancelledWhileItsBodyRunsCancelsTheStageItReturns() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            CompletableFuture<Object> stage = new CompletableFuture<>();
            AtomicReference<Task<Object>> self = new AtomicReference<>();
            Task<Object> task = executor.spawn(() -> {
                self.get().cancel(false);
                return stage;
            });
            self.set(task);
            assertThrows(CancellationException.class, () -> executor.runUntil(task));
            assertTrue(stage.isCancelled());
        }
    }
}
