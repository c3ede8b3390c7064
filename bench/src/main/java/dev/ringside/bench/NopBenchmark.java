package dev.ringside.bench;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.reactor.uring.UringReactor;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
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
 * io_uring NOP round trips: a task on the loop submits {@link #batch} {@link IoSource#nop()}s, waits
 * for all of them, and repeats, {@value #NOPS} NOPs per invocation; the score is per NOP. The loop is
 * driven by {@link RawExecutor#runUntil} on the benchmark thread.
 *
 * <p>The baseline is {@code bench/native/nop.c}: liburing, {@code io_uring_prep_nop} × batch,
 * {@code io_uring_submit_and_wait(batch)}, reap, for a fixed time, run by {@code bench/run} before JMH,
 * twice: with liburing's default ring, and with the ring fd registered
 * ({@code io_uring_register_ring_fd}), as ringside's loop thread registers its ring. The second is the
 * like-for-like comparison: registration spares each {@code io_uring_enter} the descriptor lookup in
 * both programs (in the multithreaded JVM the lookup also takes a reference on the file, in the
 * single-threaded C program it does not).
 *
 * <p>To keep the benchmark's own allocation out of the per-NOP figure ({@code -prof gc}), the driver
 * attaches its callback to one future at a time (the last of the round first, then any still pending)
 * instead of to every NOP; what remains is ringside's allocation per operation plus
 * {@code 1/batch} of a callback registration.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class NopBenchmark {

    /** NOPs per invocation (a multiple of every batch). */
    static final int NOPS = 32 * 1000;

    /** NOPs submitted together before waiting for them all. */
    @Param({"1", "8", "32"})
    public int batch;

    /** The reactor (only io_uring has a NOP that reaches the kernel). */
    @Param({"uring"})
    public String reactor;

    RawExecutor<?> executor;
    IoSource source;
    Driver driver;

    @Setup(Level.Trial)
    public void open() throws IOException {
        if (NOPS % batch != 0) {
            throw new IllegalArgumentException("batch must divide " + NOPS + ": " + batch);
        }
        executor = Reactors.newExecutor(reactor);
        source = executor.register(Fd.eventfd(0, false));
        driver = new Driver(source, batch);
    }

    @TearDown(Level.Trial)
    public void close() {
        source.close();
        executor.close();
    }

    @Benchmark
    @OperationsPerInvocation(NOPS)
    @Subject(workload = "io_uring NOP round trip, per NOP", maxBytesPerOp = 128)
    @External(value = "C liburing (bench/native/nop.c)", key = "nop", params = "batch",
            targets = {"batch=1:0.9", "batch=32:0.85"})
    @External(value = "C liburing, ring fd registered like ringside's (nop.c ... registered)", key = "nop-registered",
            params = "batch", targets = {"batch=1:0.9", "batch=32:0.85"})
    public void ringside(EnterCounters counters) {
        long enters = enterCalls();
        executor.runUntil(executor.spawn(driver::start));
        counters.add(enterCalls() - enters, NOPS);
    }

    private long enterCalls() {
        return executor.reactor() instanceof UringReactor uring ? uring.enterCalls() : 0;
    }

    /** Rounds of {@code batch} NOPs, {@link #NOPS} in all, on the loop thread. */
    static final class Driver implements BiConsumer<Void, Throwable> {
        private final IoSource source;
        private final int batch;
        @SuppressWarnings("unchecked")
        private final CompletableFuture<Void>[] round;
        private int roundsLeft;
        /** The round's first future that may be pending. */
        private int waitingFrom;
        private CompletableFuture<Void> done;

        Driver(IoSource source, int batch) {
            this.source = source;
            this.batch = batch;
            this.round = new CompletableFuture[batch];
        }

        CompletableFuture<Void> start() {
            done = new CompletableFuture<>();
            roundsLeft = NOPS / batch;
            submitRound();
            return done;
        }

        private void submitRound() {
            for (int i = 0; i < batch; i++) {
                round[i] = source.nop();
            }
            waitingFrom = 0;
            round[batch - 1].whenComplete(this);
        }

        /** A waited-for future completed: wait for the next pending one, or start the next round. */
        @Override
        public void accept(Void ignored, Throwable failure) {
            if (failure != null) {
                done.completeExceptionally(failure);
                return;
            }
            while (waitingFrom < batch) {
                CompletableFuture<Void> next = round[waitingFrom];
                if (!next.isDone()) {
                    next.whenComplete(this);
                    return;
                }
                if (next.isCompletedExceptionally()) {
                    next.whenComplete(this); // reports the failure at once
                    return;
                }
                round[waitingFrom++] = null;
            }
            if (--roundsLeft == 0) {
                done.complete(null);
            } else {
                submitRound();
            }
        }
    }
}
