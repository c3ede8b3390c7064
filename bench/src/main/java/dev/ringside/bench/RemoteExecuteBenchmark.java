package dev.ringside.bench;

import dev.ringside.executor.RawExecutor;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * Hand-off throughput from another thread: the benchmark thread (one producer) gives
 * {@value #RUNNABLES} runnables to an executor whose single thread runs them, each counting a latch
 * down, and waits until all have run. The score is per runnable; the wait at the end (one wake-up of
 * the producer) is spread over all of them.
 *
 * <ul>
 *   <li>{@code ringside}: {@link RawExecutor#execute} from the producer (the MPSC queue and coalesced
 *       wake-ups), the loop running in {@link RawExecutor#run()} on a thread of its own.</li>
 *   <li>{@code singleThreadExecutor}: {@link Executors#newSingleThreadExecutor()}, a
 *       {@link java.util.concurrent.ThreadPoolExecutor} with one worker and a linked blocking queue.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RemoteExecuteBenchmark {

    /** Runnables given per benchmark invocation. */
    static final int RUNNABLES = 16384;

    /** A ringside executor on the reactor named by {@link #reactor}, its loop on a thread of its own. */
    @State(Scope.Thread)
    public static class Loop {
        /** The reactor: {@code fake}, or the name of a {@link dev.ringside.executor.ReactorProvider}. */
        @Param({Reactors.FAKE})
        public String reactor;

        RawExecutor<?> executor;
        Thread loopThread;

        @Setup(Level.Trial)
        public void open() throws IOException {
            executor = Reactors.newExecutor(reactor);
            loopThread = Reactors.startLoop(executor);
        }

        @TearDown(Level.Trial)
        public void close() throws InterruptedException {
            executor.close();
            loopThread.join();
        }
    }

    @Benchmark
    @OperationsPerInvocation(RUNNABLES)
    @Subject(workload = "execute from another thread, per runnable")
    public void ringside(Loop loop) throws InterruptedException {
        giveAndWait(loop.executor);
    }

    /** A thread pool executor with one worker. */
    @State(Scope.Thread)
    public static class Pool {
        ExecutorService pool;

        @Setup(Level.Trial)
        public void open() {
            pool = Executors.newSingleThreadExecutor();
        }

        @TearDown(Level.Trial)
        public void close() throws InterruptedException {
            pool.shutdown();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Benchmark
    @OperationsPerInvocation(RUNNABLES)
    @Baseline(value = "ThreadPoolExecutor, 1 worker (Executors.newSingleThreadExecutor)", minSpeedup = 2)
    public void singleThreadExecutor(Pool pool) throws InterruptedException {
        giveAndWait(pool.pool);
    }

    private static void giveAndWait(Executor executor) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(RUNNABLES);
        Runnable countDown = done::countDown;
        for (int i = 0; i < RUNNABLES; i++) {
            executor.execute(countDown);
        }
        done.await();
    }
}
