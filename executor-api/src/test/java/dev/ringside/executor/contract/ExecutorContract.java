package dev.ringside.executor.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.ExecutorClosedException;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link dev.ringside.executor.RawExecutor} on a reactor: tasks, the loop thread,
 * wake-ups from other threads, fairness, timers, cancellation and closing. A reactor's test extends
 * this class and provides a {@link ReactorFixture}; every test here must pass unchanged.
 */
public abstract class ExecutorContract<R extends Reactor> extends ContractSupport<R> {

    @Test
    void spawnRunsTheBodyOnTheLoopThreadAndCompletesWithItsStage() {
        Thread test = Thread.currentThread();
        Task<String> task = executor.spawn(() -> {
            assertTrue(executor.isLoopThread());
            assertSame(test, Thread.currentThread());
            return CompletableFuture.completedFuture("done");
        });
        assertFalse(task.isDone(), "spawn must not run the body inline");
        assertEquals("done", executor.runUntil(task));
    }

    @Test
    void aTaskCompletesWithTheResultOfAStageThatCompletesLater() {
        Task<Integer> task = executor.spawn(() -> executor.sleep(Duration.ofMillis(1)).thenApply(v -> 7));
        assertEquals(7, executor.runUntil(task));
    }

    @Test
    void aTaskCompletesOnTheLoopThreadWhenAnotherThreadCompletesItsStage() {
        CompletableFuture<String> external = new CompletableFuture<>();
        AtomicBoolean dependentOnLoop = new AtomicBoolean();
        Task<String> task = executor.spawn(() -> external);
        CompletableFuture<String> dependent = task.thenApply(value -> {
            dependentOnLoop.set(executor.isLoopThread());
            return value;
        });
        Thread.ofPlatform().start(() -> external.complete("from elsewhere"));
        assertEquals("from elsewhere", executor.runUntil(dependent));
        assertTrue(dependentOnLoop.get(), "the task's dependents run on the loop thread");
    }

    @Test
    void workThatDependsOnAFinishedTaskDoesNotBelongToIt() throws Exception {
        var file = file(bytes("abc"));
        Task<Integer> first = executor.spawn(() -> CompletableFuture.completedFuture(1));
        CompletableFuture<Integer> next = first.thenCompose(v -> file.source().read(0, new byte[3]));
        assertEquals(3, executor.runUntil(next), "IO issued by a dependent of a completed task is not cancelled");
        Task<Integer> parent = executor.spawn(() -> {
            Task<Integer> child = executor.spawn(() -> CompletableFuture.completedFuture(2));
            return child.thenCompose(v -> executor.sleep(Duration.ofMillis(1)).thenApply(x -> v));
        });
        assertEquals(2, executor.runUntil(parent));
    }

    @Test
    void aThrowingBodyFailsItsTaskAndRunUntilThrowsLikeJoin() {
        Task<Object> task = executor.spawn(() -> {
            throw new IllegalStateException("boom");
        });
        CompletionException thrown = assertThrows(CompletionException.class, () -> executor.runUntil(task));
        assertInstanceOf(IllegalStateException.class, thrown.getCause());
        assertEquals("boom", thrown.getCause().getMessage());
    }

    @Test
    void executeNeverRunsInline() {
        List<String> order = new ArrayList<>();
        inTask(() -> {
            executor.execute(() -> order.add("runnable"));
            order.add("task");
            return executor.sleep(Duration.ZERO);
        });
        assertEquals(List.of("task", "runnable"), order);
    }

    @Test
    void workFromOtherThreadsWakesAParkedLoopAndRunsOnceEachOnTheLoopThread() throws Exception {
        int producers = 4, perProducer = 2_500;
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger offLoop = new AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perProducer; i++) {
                    executor.execute(() -> {
                        if (!executor.isLoopThread()) {
                            offLoop.incrementAndGet();
                        }
                        if (ran.incrementAndGet() == producers * perProducer) {
                            all.complete(null);
                        }
                    });
                }
            }));
        }
        start.countDown();
        executor.runUntil(all);
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(producers * perProducer, ran.get());
        assertEquals(0, offLoop.get());
    }

    @Test
    void aLoopBlockedWithNothingToDoIsWokenByAnotherThread() {
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
            executor.execute(() -> answer.complete(42));
        });
        assertEquals(42, executor.runUntil(answer));
    }

    @Test
    void onlyOneThreadRunsTheLoop() throws Exception {
        // The loop runs on this thread (a reactor may bind to the first thread that runs it; see
        // ReactorFixture#loopMayMoveBetweenThreads); another thread tries to run it meanwhile.
        CompletableFuture<Void> release = new CompletableFuture<>();
        AtomicReference<Object> runUntilElsewhere = new AtomicReference<>(), runElsewhere = new AtomicReference<>();
        Task<Void> holder = executor.spawn(() -> {
            Thread.ofPlatform().start(() -> {
                runUntilElsewhere.set(outcome(() -> executor.runUntil(never())));
                runElsewhere.set(outcome(() -> {
                    executor.run();
                    return null;
                }));
                executor.execute(() -> release.complete(null));
            });
            return release;
        });
        executor.runUntil(holder);
        assertInstanceOf(IllegalStateException.class, runUntilElsewhere.get(), "runUntil on another thread");
        assertInstanceOf(IllegalStateException.class, runElsewhere.get(), "run on another thread");
        AtomicReference<Throwable> nested = new AtomicReference<>();
        inTask(() -> {
            try {
                executor.runUntil(never());
            } catch (IllegalStateException expected) {
                nested.set(expected);
            }
            return CompletableFuture.completedFuture(null);
        });
        assertInstanceOf(IllegalStateException.class, nested.get(), "a task cannot drive its own loop");
    }

    /** What {@code call} returned, or what it threw. */
    private static Object outcome(Callable<?> call) {
        try {
            return call.call();
        } catch (Throwable t) {
            return t;
        }
    }

    @Test
    void aTaskThatKeepsReschedulingItselfDoesNotStarveIo() throws Exception {
        var pipe = pipe();
        IoBuffer buffer = closeLater(IoBuffer.allocate(16));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger spins = new AtomicInteger();
        Runnable spinner = new Runnable() {
            @Override
            public void run() {
                spins.incrementAndGet();
                if (!stop.get()) {
                    executor.execute(this);
                }
            }
        };
        int count = inTask(() -> {
            executor.execute(spinner);
            return pipe.writeEnd().write(-1, bytes("x"))
                    .thenCompose(n -> pipe.readEnd().read(-1, buffer, new MemRegion(0, 16)))
                    .whenComplete((n, e) -> stop.set(true));
        });
        assertEquals(1, count);
        assertTrue(spins.get() > 0);
    }

    @Test
    void timersFireInDeadlineOrderAndNeverEarly() {
        // Warm up first, so that class loading does not stretch the gaps between the schedule calls.
        loopUntil(executor.schedule(() -> { }, 0, TimeUnit.MILLISECONDS)::isDone);
        List<Integer> fired = Collections.synchronizedList(new ArrayList<>());
        long start = executor.reactor().nanoTime();
        AtomicReference<Long> firstAt = new AtomicReference<>();
        executor.schedule(() -> fired.add(3), 70, TimeUnit.MILLISECONDS);
        executor.schedule(() -> {
            firstAt.set(executor.reactor().nanoTime());
            fired.add(1);
        }, 10, TimeUnit.MILLISECONDS);
        executor.schedule(() -> fired.add(2), 40, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> last = executor.schedule(() -> fired.add(4), 70, TimeUnit.MILLISECONDS); // same delay: FIFO
        loopUntil(last::isDone);
        assertEquals(List.of(1, 2, 3, 4), fired);
        assertTrue(firstAt.get() - start >= TimeUnit.MILLISECONDS.toNanos(10), "a timer fired early");
    }

    @Test
    void sleepCompletesOnTheLoopThreadAfterItsDuration() {
        long start = executor.reactor().nanoTime();
        AtomicBoolean onLoop = new AtomicBoolean();
        executor.runUntil(executor.sleep(Duration.ofMillis(15)).thenRun(() -> onLoop.set(executor.isLoopThread())));
        assertTrue(executor.reactor().nanoTime() - start >= Duration.ofMillis(15).toNanos());
        assertTrue(onLoop.get());
    }

    @Test
    void periodicTimersRepeatUntilCancelled() {
        AtomicInteger rate = new AtomicInteger();
        AtomicInteger delay = new AtomicInteger();
        ScheduledFuture<?> fixedRate = executor.scheduleAtFixedRate(rate::incrementAndGet, 1, 2, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> fixedDelay = executor.scheduleWithFixedDelay(delay::incrementAndGet, 1, 2, TimeUnit.MILLISECONDS);
        loopUntil(() -> rate.get() >= 5 && delay.get() >= 5);
        assertTrue(fixedRate.cancel(false));
        assertTrue(fixedDelay.cancel(false));
        int rateAtCancel = rate.get(), delayAtCancel = delay.get();
        executor.runUntil(executor.sleep(Duration.ofMillis(20)));
        assertEquals(rateAtCancel, rate.get());
        assertEquals(delayAtCancel, delay.get());
        assertTrue(fixedRate.isCancelled());
    }

    @Test
    void aCancelledTimerNeverRuns() {
        AtomicBoolean ran = new AtomicBoolean();
        ScheduledFuture<?> timer = executor.schedule(() -> ran.set(true), 5, TimeUnit.MILLISECONDS);
        assertTrue(timer.cancel(false));
        executor.runUntil(executor.sleep(Duration.ofMillis(20)));
        assertFalse(ran.get());
        assertThrows(CancellationException.class, timer::get);
    }

    @Test
    void cancellingATaskCancelsItsIoSleepsAndChildTasks() throws Exception {
        var pipe = pipe();
        IoBuffer buffer = closeLater(IoBuffer.allocate(64));
        AtomicReference<CompletableFuture<Integer>> read = new AtomicReference<>();
        AtomicReference<CompletableFuture<Void>> sleep = new AtomicReference<>();
        AtomicReference<Task<Void>> child = new AtomicReference<>();
        Task<Integer> task = executor.spawn(() -> {
            sleep.set(executor.sleep(Duration.ofDays(1)));
            child.set(executor.spawn(() -> never()));
            read.set(pipe.readEnd().read(-1, buffer, new MemRegion(0, 64)));
            return read.get();
        });
        loopUntil(() -> read.get() != null && buffer.refCount() == 2);
        assertTrue(task.cancel(true));
        assertTrue(task.isCancelled());
        executor.runUntil(executor.sleep(Duration.ofMillis(1)));
        assertTrue(read.get().isCancelled(), "the task's read is cancelled");
        assertTrue(sleep.get().isCancelled(), "the task's sleep is cancelled");
        assertTrue(child.get().isCancelled(), "the task's child task is cancelled");
        loopUntil(() -> buffer.refCount() == 1);
    }

    @Test
    void spawnBlockingRunsOffTheLoopAndCompletesOnIt() {
        Thread loop = Thread.currentThread();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        AtomicBoolean completedOnLoop = new AtomicBoolean();
        Task<String> task = executor.spawnBlocking(() -> {
            ranOn.set(Thread.currentThread());
            return "blocking";
        });
        executor.runUntil(task.thenRun(() -> completedOnLoop.set(executor.isLoopThread())));
        assertEquals("blocking", task.join());
        assertNotSame(loop, ranOn.get());
        assertTrue(completedOnLoop.get());
    }

    /**
     * A loop that spins before blocking ({@code spinBeforeBlocking}) still runs work from other threads
     * on the loop thread, completes IO, fires timers and closes. The spin is a minute, far beyond the
     * ten-second bounds here: a spin that did not end for each kind of work would miss them. On a reactor
     * with virtual time, which moves only while the loop blocks, a spin holds the clock still (the
     * documented exception): there the write comes from another thread instead of a timer, and a second
     * executor with a short spin shows a timer firing at its virtual deadline once the spin has ended.
     */
    @Test
    void aSpinningLoopRunsWorkFromOtherThreadsCompletesIoFiresTimersAndCloses() throws Exception {
        boolean virtual = fixture().virtualTime();
        RawExecutor<R> spinning = closeLater(fixture().newExecutor(b -> b.spinBeforeBlocking(Duration.ofMinutes(1))));
        var pipe = closeLater(fixture().newPipe(spinning));
        IoBuffer buffer = closeLater(IoBuffer.allocate(8));
        AtomicReference<Throwable> loopFailure = new AtomicReference<>();
        Thread loop = startLoop(spinning, loopFailure);
        for (int i = 0; i < 100; i++) {
            CompletableFuture<Boolean> ran = new CompletableFuture<>();
            spinning.execute(() -> ran.complete(spinning.isLoopThread()));
            assertTrue(ran.get(10, TimeUnit.SECONDS), "work from another thread runs on the loop thread");
        }
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, 8));
        CompletableFuture<Integer> written = new CompletableFuture<>();
        Runnable write = () -> pipe.writeEnd().write(-1, bytes("spin")).whenComplete((n, e) -> written.complete(n));
        if (virtual) {
            spinning.execute(write);
        } else {
            // From a timer, so that nothing but the timer's deadline ends the spin before the write.
            long scheduledAt = spinning.reactor().nanoTime();
            spinning.schedule(write, 20, TimeUnit.MILLISECONDS).get(10, TimeUnit.SECONDS);
            assertTrue(spinning.reactor().nanoTime() - scheduledAt >= TimeUnit.MILLISECONDS.toNanos(20),
                    "the timer fired no earlier than its deadline");
        }
        assertEquals(4, written.get(10, TimeUnit.SECONDS));
        assertEquals(4, read.get(10, TimeUnit.SECONDS), "the read completed while the loop spun");
        spinning.close();
        loop.join(10_000);
        assertFalse(loop.isAlive(), "close() ends a spinning loop's run()");
        assertEquals(null, loopFailure.get());
        assertTrue(spinning.isTerminated());
        if (virtual) {
            try (RawExecutor<R> briefly = fixture().newExecutor(b -> b.spinBeforeBlocking(Duration.ofMillis(20)))) {
                long start = briefly.reactor().nanoTime();
                briefly.runUntil(briefly.sleep(Duration.ofHours(1)));
                assertTrue(briefly.reactor().nanoTime() - start >= Duration.ofHours(1).toNanos(),
                        "virtual time jumps to the deadline once the spin has ended");
            }
        }
    }

    /** Runs {@code executor}'s loop ({@code run()}) on a new thread; what it throws goes to {@code failure}. */
    private static Thread startLoop(RawExecutor<?> executor, AtomicReference<Throwable> failure) {
        return Thread.ofPlatform().start(() -> {
            try {
                executor.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
    }

    @Test
    void closeFromAnotherThreadWhileTheLoopRunsDrainsEverything() throws Exception {
        var pipes = new ArrayList<ReactorFixture.PipeEnds>();
        var buffers = new ArrayList<IoBuffer>();
        var reads = new ArrayList<CompletableFuture<Integer>>();
        for (int i = 0; i < 8; i++) {
            pipes.add(pipe());
            buffers.add(IoBuffer.allocate(32));
        }
        CountDownLatch started = new CountDownLatch(1);
        Task<Void> waiting = executor.spawn(() -> {
            for (int i = 0; i < pipes.size(); i++) {
                reads.add(pipes.get(i).readEnd().read(-1, buffers.get(i), new MemRegion(0, 32)));
            }
            started.countDown();
            return never();
        });
        AtomicReference<Throwable> loopFailure = new AtomicReference<>();
        Thread loop = startLoop(executor, loopFailure);
        assertTrue(started.await(10, TimeUnit.SECONDS));
        executor.close();
        loop.join(10_000);
        assertFalse(loop.isAlive(), "run() returns once the executor is closed");
        assertEquals(null, loopFailure.get());
        assertTrue(executor.isTerminated());
        assertTrue(waiting.isCancelled());
        for (int i = 0; i < reads.size(); i++) {
            assertTrue(reads.get(i).isCancelled());
            assertEquals(1, buffers.get(i).refCount(), "the kernel handed buffer " + i + " back");
            buffers.get(i).close();
            assertTrue(buffers.get(i).isFreed());
        }
        assertThrows(ExecutorClosedException.class, () -> executor.spawn(() -> never()));
        assertThrows(ExecutorClosedException.class, () -> executor.execute(() -> { }));
        executor.close(); // idempotent
    }

    /**
     * As {@link java.util.concurrent.ExecutorService#close()}: an interrupted thread's {@code close()}
     * still returns only once the loop (here on this thread, busy in a task) has drained, and leaves
     * the interrupt status set.
     */
    @Test
    void anInterruptedCloseStillWaitsForTheDrainAndKeepsTheInterrupt() throws Exception {
        PendingRead pending = pendingRead(8);
        AtomicBoolean terminatedOnReturn = new AtomicBoolean(), interruptedOnReturn = new AtomicBoolean();
        CountDownLatch closing = new CountDownLatch(1);
        AtomicReference<Thread> closer = new AtomicReference<>();
        Task<Void> busy = executor.spawn(() -> {
            closer.set(Thread.ofPlatform().start(() -> {
                Thread.currentThread().interrupt();
                closing.countDown();
                executor.close();
                terminatedOnReturn.set(executor.isTerminated());
                interruptedOnReturn.set(Thread.currentThread().isInterrupted());
            }));
            closing.await();
            Thread.sleep(100); // the loop is busy while the interrupted close() waits for it
            return never();
        });
        assertThrows(CancellationException.class, () -> executor.runUntil(busy), "the drain cancelled the task");
        closer.get().join();
        assertTrue(terminatedOnReturn.get(), "close() returned only once the executor was terminated");
        assertTrue(interruptedOnReturn.get(), "and with the interrupt status set again");
        assertTrue(pending.read().isCancelled());
        assertEquals(1, pending.buffer().refCount());
        pending.buffer().close();
    }

    /**
     * A {@code close()} that arrives while {@code runUntil} drives the loop (here from a task, which
     * returns at once) is drained by that loop before {@code runUntil} returns, even though the stage
     * it waits for completes in the same pass: nothing is left for another thread to drain.
     */
    @Test
    void runUntilDrainsACloseThatArrivedWhileItRan() throws Exception {
        PendingRead pending = pendingRead(8);
        CompletableFuture<Integer> read = pending.read();
        IoBuffer buffer = pending.buffer();
        Task<Void> closing = executor.spawn(() -> {
            executor.close(); // on the loop thread: returns at once, the loop drains
            return CompletableFuture.completedFuture(null);
        });
        executor.runUntil(closing);
        assertTrue(executor.isTerminated(), "runUntil drained the close before returning");
        assertTrue(read.isCancelled());
        assertEquals(1, buffer.refCount(), "the reactor handed the buffer back");
        buffer.close();
    }

    /**
     * Operations a loop handed to the reactor on a thread that has ended since are not lost with the
     * thread: a loop on another thread completes them as the first would have. (io_uring runs a
     * request's task work on the thread that submitted it; once that thread has ended, a read retried on
     * readiness ends with ECANCELED instead, and the reactor submits it again.) The documented exception
     * is a reactor bound to the first thread that ran the loop: once that thread has ended nothing can
     * be submitted or awaited, so a {@code close()} from another thread terminates the executor and
     * cancels the futures, but what the kernel may still write stays held (leaked), never freed.
     */
    @Test
    void operationsStartedByALoopOnAThreadThatHasEndedCompleteOnTheNextLoop() throws Exception {
        var readPipe = pipe();
        var writePipe = pipe();
        var pollPipe = pipe();
        fixture().fill(writePipe);
        IoBuffer readInto = closeLater(IoBuffer.allocate(8));
        IoBuffer writeFrom = closeLater(IoBuffer.copyOf("w".getBytes()));
        AtomicReference<CompletableFuture<Integer>> read = new AtomicReference<>(), write = new AtomicReference<>();
        AtomicReference<CompletableFuture<Void>> readable = new AtomicReference<>();
        AtomicReference<String> firstKernelThread = new AtomicReference<>();
        Thread first = Thread.ofPlatform().name("first-loop").start(() -> {
            firstKernelThread.set(kernelThreadId());
            read.set(readPipe.readEnd().read(-1, readInto, new MemRegion(0, 8)));
            write.set(writePipe.writeEnd().write(-1, writeFrom, new MemRegion(0, 1)));
            readable.set(pollPipe.readEnd().waitReadable());
            executor.runUntil(executor.sleep(Duration.ofMillis(20))); // the reactor has them from this thread
        });
        first.join();
        awaitKernelThreadExit(firstKernelThread.get());
        assertFalse(read.get().isDone() || write.get().isDone() || readable.get().isDone(),
                "read, write and wait pending when the first loop thread ended");
        assertEquals(2, readInto.refCount());
        if (!fixture().loopMayMoveBetweenThreads()) {
            executor.close(); // bound to the thread that ended: closed from here
            assertTrue(executor.isTerminated());
            for (CompletableFuture<?> operation : List.of(read.get(), write.get(), readable.get())) {
                assertTrue(operation.isCancelled(), operation.toString());
            }
            assertEquals(2, readInto.refCount(), "the read's buffer stays held: the kernel may still write it");
            assertEquals(2, writeFrom.refCount(), "so does the write's");
            return;
        }
        executor.runUntil(executor.sleep(Duration.ofMillis(20)));
        assertFalse(read.get().isDone() || write.get().isDone() || readable.get().isDone(),
                "nothing completed for want of the thread that started it");
        executor.runUntil(readPipe.writeEnd().write(-1, "abc".getBytes()));
        assertEquals(3, executor.runUntil(read.get()), "the read gets what is written now");
        assertEquals("abc", new String(readInto.toByteArray(), 0, 3));
        executor.runUntil(pollPipe.writeEnd().write(-1, "p".getBytes()));
        executor.runUntil(readable.get());
        byte[] drained = new byte[1 << 20];
        executor.runUntil(writePipe.readEnd().read(-1, drained));
        assertEquals(1, executor.runUntil(write.get()), "the write goes through once there is room");
        loopUntil(() -> readInto.refCount() == 1 && writeFrom.refCount() == 1);
    }

    @Test
    void closeWithNoLoopRunningDrainsOnTheClosingThread() throws Exception {
        PendingRead pending = pendingRead(8);
        CompletableFuture<Integer> read = pending.read();
        IoBuffer buffer = pending.buffer();
        assertEquals(2, buffer.refCount());
        List<Runnable> notRun = new ArrayList<>();
        Runnable queued = () -> { };
        Thread.ofPlatform().start(() -> executor.execute(queued)).join();
        notRun.addAll(executor.shutdownNow());
        assertTrue(executor.isTerminated());
        assertTrue(executor.awaitTermination(0, TimeUnit.SECONDS));
        assertTrue(read.isCancelled() || read.isCompletedExceptionally());
        assertEquals(1, buffer.refCount());
        assertEquals(List.of(queued), notRun, "shutdownNow returns the runnables that never ran");
        buffer.close();
    }

    @Test
    void shutdownLetsTasksFinishThenTerminates() throws Exception {
        AtomicInteger steps = new AtomicInteger();
        Task<Integer> task = executor.spawn(() -> executor.sleep(Duration.ofMillis(5))
                .thenCompose(v -> {
                    steps.incrementAndGet();
                    return executor.sleep(Duration.ofMillis(5)); // a task still issues work after shutdown
                })
                .thenApply(v -> steps.incrementAndGet()));
        executor.shutdown();
        assertTrue(executor.isShutdown());
        Thread other = Thread.ofPlatform().start(() ->
                assertThrows(ExecutorClosedException.class, () -> executor.execute(() -> { })));
        other.join();
        executor.run();
        assertEquals(2, task.join());
        assertTrue(executor.isTerminated());
    }

    @Test
    void runUntilReportsCancellationLikeJoin() {
        Task<Object> task = executor.spawn(() -> never());
        executor.execute(() -> task.cancel(false));
        assertThrows(CancellationException.class, () -> executor.runUntil(task));
    }
}
