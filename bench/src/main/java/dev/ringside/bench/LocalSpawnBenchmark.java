package dev.ringside.bench;

import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Task;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveTask;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What spawning and running one task costs on the thread that runs them: from a task already running,
 * spawn {@value #TASKS} trivial tasks (each body returns an already completed future) and run them all.
 * The score is per task.
 *
 * <ul>
 *   <li>{@code ringside}: one task on the loop spawns the others with {@link RawExecutor#spawn} (local
 *       queue, child-task bookkeeping, completion) and completes when the last has run; the benchmark
 *       thread is the loop thread ({@link RawExecutor#runUntil}).</li>
 *   <li>{@code ringsideFromRunnable}: the same spawned from a plain runnable on the loop, so the tasks
 *       have no parent: the difference from {@code ringside} is what the parent's child set costs.</li>
 *   <li>{@code arrayDequeDrain}: the same bodies pushed on an {@link ArrayDeque} of runnables and
 *       drained: the floor, a queue and nothing else.</li>
 *   <li>{@code forkJoin}: one {@link RecursiveTask} on a one-thread {@link ForkJoinPool} forks the
 *       bodies and joins them (newest first, as fork/join code does). It includes one hand-off from the
 *       benchmark thread to the pool's worker and back per {@value #TASKS} tasks.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LocalSpawnBenchmark {

    /** Tasks spawned and run per benchmark invocation. */
    static final int TASKS = 4096;

    /** A trivial task body. */
    static final Callable<CompletionStage<Integer>> BODY = () -> CompletableFuture.completedFuture(1);

    /** A ringside executor on the reactor named by {@link #reactor}. */
    @State(Scope.Thread)
    public static class Loop {
        /** The reactor: {@code fake}, or the name of a {@link dev.ringside.executor.ReactorProvider}. */
        @Param({Reactors.FAKE})
        public String reactor;

        RawExecutor<?> executor;

        @Setup(Level.Trial)
        public void open() throws IOException {
            executor = Reactors.newExecutor(reactor);
        }

        @TearDown(Level.Trial)
        public void close() {
            executor.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    @Subject(workload = "local spawn and run, per task", maxNanosPerOp = 50)
    public Integer ringside(Loop loop) {
        RawExecutor<?> executor = loop.executor;
        return executor.runUntil(executor.spawn(() -> {
            for (int i = 1; i < TASKS; i++) {
                executor.spawn(BODY);
            }
            return executor.spawn(BODY); // the local queue is FIFO: the last spawned runs last
        }));
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    @Subject(workload = "local spawn and run, per task, spawned outside any task")
    public Integer ringsideFromRunnable(Loop loop) {
        RawExecutor<?> executor = loop.executor;
        CompletableFuture<Task<Integer>> last = new CompletableFuture<>();
        executor.execute(() -> {
            for (int i = 1; i < TASKS; i++) {
                executor.spawn(BODY);
            }
            last.complete(executor.spawn(BODY));
        });
        return executor.runUntil(last.thenCompose(task -> task));
    }

    /** A deque and the runnable that runs one body. */
    @State(Scope.Thread)
    public static class Deque {
        final ArrayDeque<Runnable> queue = new ArrayDeque<>(TASKS);
        CompletionStage<Integer> sink;
        final Runnable task = () -> {
            try {
                sink = BODY.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    @Baseline("ArrayDeque<Runnable> drain (the floor)")
    public CompletionStage<Integer> arrayDequeDrain(Deque deque) {
        ArrayDeque<Runnable> queue = deque.queue;
        for (int i = 0; i < TASKS; i++) {
            queue.addLast(deque.task);
        }
        Runnable next;
        while ((next = queue.pollFirst()) != null) {
            next.run();
        }
        return deque.sink;
    }

    /** A fork/join pool with one worker, as ringside has one loop thread. */
    @State(Scope.Thread)
    public static class Pool {
        ForkJoinPool pool;

        @Setup(Level.Trial)
        public void open() {
            pool = new ForkJoinPool(1);
        }

        @TearDown(Level.Trial)
        public void close() {
            pool.shutdownNow();
        }
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    @Baseline("ForkJoinPool(1) fork/join")
    public Integer forkJoin(Pool pool) {
        return pool.pool.invoke(new SpawnAll());
    }

    /** Forks {@link #TASKS} bodies and joins them. */
    static final class SpawnAll extends RecursiveTask<Integer> {
        @Override
        protected Integer compute() {
            @SuppressWarnings({"unchecked", "rawtypes"})
            ForkJoinTask<CompletionStage<Integer>>[] forked = new ForkJoinTask[TASKS];
            for (int i = 0; i < TASKS; i++) {
                forked[i] = ForkJoinTask.adapt(BODY).fork();
            }
            int sum = 0;
            for (int i = TASKS - 1; i >= 0; i--) {
                sum += forked[i].join().toCompletableFuture().join();
            }
            return sum;
        }
    }
}
