package dev.ringside.bench;

import dev.ringside.executor.RawExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Cross-thread wake latency: the benchmark thread {@link RawExecutor#execute}s a runnable on a loop
 * parked in {@link RawExecutor#run()} (so the loop must be woken from its reactor's wait: an eventfd
 * write), and the runnable signals back; one round trip per invocation. Every round trip of the
 * measurement iterations is recorded in an HdrHistogram, whose p50, p99 and p99.9 the trial's teardown
 * writes to the external-results file for the report ({@code latency} lines).
 *
 * <p>{@link #handoff} is how the benchmark thread waits for the signal back: {@code park}
 * ({@link LockSupport#park()}, woken by {@link LockSupport#unpark}: a kernel wake-up each way, like the
 * C baseline) or {@code spin} (busy-waits on a volatile flag: only the loop's wake-up goes through the
 * kernel). The C baseline {@code bench/native/eventfd_pingpong.c} blocks both threads in
 * {@code epoll_wait} on eventfds; the target (p50 at most 1.2× C) applies to {@code park}.
 *
 * <p>{@link #spinBeforeBlockingMicros} is the loop's own choice
 * ({@link RawExecutor.Builder#spinBeforeBlocking}): {@code 0} blocks in the reactor as soon as the loop
 * is out of work, so every {@code execute} must wake it through the kernel; {@code 50} spins for 50 µs
 * first, and since the next round trip starts well within that, the loop picks the work up without a
 * wake-up (and keeps a core busy meanwhile).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class WakeLatencyBenchmark {

    @Param({"uring", "epoll"})
    public String reactor;

    /** {@code park} or {@code spin}: how the benchmark thread waits for the signal back. */
    @Param({"park", "spin"})
    public String handoff;

    /** How long the loop spins before it blocks, in microseconds (0: it blocks at once). */
    @Param({"0", "50"})
    public int spinBeforeBlockingMicros;

    RawExecutor<?> executor;
    Thread loopThread;
    Thread caller;
    volatile boolean signalled;
    boolean park;
    Runnable signal;
    final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    boolean recording;

    @Setup(Level.Trial)
    public void open() throws IOException {
        executor = Reactors.newExecutor(reactor, Duration.ofNanos(spinBeforeBlockingMicros * 1000L));
        loopThread = Reactors.startLoop(executor);
        park = "park".equals(handoff);
        if (!park && !"spin".equals(handoff)) {
            throw new IllegalArgumentException("handoff must be park or spin: " + handoff);
        }
        signal = park ? () -> {
            signalled = true;
            LockSupport.unpark(caller);
        } : () -> signalled = true;
    }

    @Setup(Level.Iteration)
    public void iteration(IterationParams params) {
        caller = Thread.currentThread();
        recording = params.getType() == IterationType.MEASUREMENT;
    }

    @TearDown(Level.Trial)
    public void close() throws InterruptedException {
        executor.close();
        loopThread.join();
        Latencies.write("latency WakeLatencyBenchmark.ringside handoff=" + handoff + " reactor=" + reactor
                + " spinBeforeBlockingMicros=" + spinBeforeBlockingMicros, histogram);
    }

    @Benchmark
    @Subject(workload = "cross-thread wake round trip (execute → loop parked in run() → signal back)")
    @External(value = "C eventfd + epoll_wait ping-pong (bench/native/eventfd_pingpong.c), p50", key = "eventfd-pingpong",
            latency = true, targets = "handoff=park:0.8333")
    public void ringside() {
        long start = System.nanoTime();
        signalled = false;
        executor.execute(signal);
        if (park) {
            while (!signalled) {
                LockSupport.park(this);
            }
        } else {
            while (!signalled) {
                Thread.onSpinWait();
            }
        }
        if (recording) {
            histogram.recordValue(System.nanoTime() - start);
        }
    }
}
