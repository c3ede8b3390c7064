package dev.ringside.bench;

import com.sun.nio.file.ExtendedOpenOption;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.LinuxOpenOption;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.reactor.uring.UringReactor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
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
 * 4 KiB random reads (4096-aligned offsets, uniform over the file) from a 1 GiB file, page cache warm
 * ({@code direct=false}) or {@code O_DIRECT} ({@code direct=true}); the score is per read.
 *
 * <ul>
 *   <li>{@code ringside}: one task on the loop keeps {@link Loop#qd} reads in flight through
 *       {@link IoSource#read(long, dev.ringside.executor.BackingMemory, MemRegion...)}, each slot with its
 *       own 4096-aligned {@link IoBuffer}, issuing the slot's next read as soon as its last completes;
 *       {@value #READS} reads per invocation. On the epoll reactor file reads run on its blocking pool.</li>
 *   <li>{@code fileChannel}: {@link FileChannel#read(ByteBuffer, long)} on the benchmark thread, one read at
 *       a time (QD1), into a 4096-aligned direct buffer ({@code ExtendedOpenOption.DIRECT} for O_DIRECT).</li>
 *   <li>fio's io_uring engine with the same block size, depth and direct flag, run by {@code bench/run --io}
 *       before JMH (an {@link External} baseline); fio's psync engine at QD1 is measured too and listed
 *       among the external figures, not compared.</li>
 * </ul>
 *
 * <p>The file is {@code ringside.bench.file} (default {@code bench/target/bench-1g.bin}); {@code bench/run
 * --io} creates it with random content and reads it once to warm the page cache; the setup creates it
 * too if it is missing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FileReadBenchmark {

    /** Reads per invocation. */
    static final int READS = 4096;
    static final int BLOCK = 4096;
    static final long FILE_SIZE = 1L << 30;
    /** An invocation not done after this long is reported as stuck (the benchmark fails, the run goes on). */
    static final Duration STUCK = Duration.ofSeconds(30);

    /** The benchmark file, and whether to read it with {@code O_DIRECT}. */
    @State(Scope.Thread)
    public static class File {
        /** {@code true}: {@code O_DIRECT}; {@code false}: through the (warm) page cache. */
        @Param({"false", "true"})
        public boolean direct;

        Path path;
        long blocks;

        @Setup(Level.Trial)
        public void open() throws IOException {
            path = Path.of(System.getProperty("ringside.bench.file", "bench/target/bench-1g.bin"));
            if (!Files.exists(path) || Files.size(path) < FILE_SIZE) {
                create(path);
            }
            blocks = Files.size(path) / BLOCK;
        }

        private static void create(Path path) throws IOException {
            Files.createDirectories(path.toAbsolutePath().getParent());
            var random = new java.util.SplittableRandom(42);
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                for (long written = 0; written < FILE_SIZE; written += chunk.capacity()) {
                    chunk.clear();
                    while (chunk.hasRemaining()) {
                        chunk.putLong(random.nextLong());
                    }
                    chunk.flip();
                    while (chunk.hasRemaining()) {
                        channel.write(chunk);
                    }
                }
            }
        }
    }

    /** A xorshift random block offset generator (no allocation, no sharing). */
    static final class Offsets {
        private long state = 0x9E3779B97F4A7C15L;
        private final long blocks;

        Offsets(long blocks) {
            this.blocks = blocks;
        }

        long next() {
            long x = state;
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            state = x;
            return Long.remainderUnsigned(x, blocks) * BLOCK;
        }
    }

    /** A ringside executor with the file registered, and {@link #qd} read slots. */
    @State(Scope.Thread)
    public static class Loop {
        /**
         * {@code uring-submit1}: io_uring entering the kernel for every read, as fio does by default. The
         * default reactor does so too for {@code O_DIRECT} reads while others are in flight, and batches
         * page-cache reads per loop pass.
         */
        @Param({"uring", "uring-submit1", "epoll"})
        public String reactor;

        /** Reads in flight. */
        @Param({"1", "32"})
        public int qd;

        RawExecutor<?> executor;
        IoSource source;
        Driver driver;

        @Setup(Level.Trial)
        public void open(File file) throws IOException {
            executor = Reactors.newExecutor(reactor);
            OpenOption[] options = file.direct
                    ? new OpenOption[] {StandardOpenOption.READ, LinuxOpenOption.DIRECT}
                    : new OpenOption[] {StandardOpenOption.READ};
            source = executor.register(Fd.open(file.path, options));
            driver = new Driver(source, qd, new Offsets(file.blocks));
        }

        @TearDown(Level.Trial)
        public void close() {
            source.close();
            driver.free();
            executor.close();
        }

        long enterCalls() {
            return executor.reactor() instanceof UringReactor uring ? uring.enterCalls() : 0;
        }
    }

    @Benchmark
    @OperationsPerInvocation(READS)
    @Subject(workload = "4 KiB random read of a 1 GiB file, per read")
    @External(value = "fio, ioengine=io_uring", key = "fio", params = {"qd", "direct"},
            targets = {"reactor=uring,qd=32,direct=false:0.9", "reactor=uring,qd=32,direct=true:0.95"})
    public void ringside(Loop loop, EnterCounters counters) {
        long enters = loop.enterCalls();
        CompletableFuture<Void> reads = loop.executor.spawn(loop.driver::start);
        CompletableFuture<Void> timeout = loop.executor.sleep(STUCK);
        loop.executor.runUntil(CompletableFuture.anyOf(reads, timeout));
        timeout.cancel(false);
        if (!reads.isDone()) {
            throw new IllegalStateException(loop.reactor + " reactor: " + loop.driver.progress() + " after "
                    + STUCK.toSeconds() + " s; giving up (a completion was lost?)");
        }
        reads.join();
        counters.add(loop.enterCalls() - enters, READS);
    }

    /** A file channel and an aligned direct buffer. */
    @State(Scope.Thread)
    public static class Channel {
        FileChannel channel;
        ByteBuffer buffer;
        Offsets offsets;

        @Setup(Level.Trial)
        public void open(File file) throws IOException {
            channel = file.direct
                    ? FileChannel.open(file.path, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)
                    : FileChannel.open(file.path, StandardOpenOption.READ);
            buffer = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).limit(BLOCK).slice();
            offsets = new Offsets(file.blocks);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            channel.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(READS)
    @Baseline(value = "FileChannel.read(ByteBuffer, long), one thread, QD1",
            targets = "reactor=uring,qd=32,direct=true:3")
    public int fileChannel(Channel channel) throws IOException {
        int total = 0;
        for (int i = 0; i < READS; i++) {
            channel.buffer.clear();
            total += channel.channel.read(channel.buffer, channel.offsets.next());
        }
        return total;
    }

    /** {@code qd} slots, each keeping one read in flight until {@value #READS} reads are issued. */
    static final class Driver {
        private final Slot[] slots;
        private final Offsets offsets;
        private int issued, completed;
        private CompletableFuture<Void> done;

        Driver(IoSource source, int qd, Offsets offsets) {
            this.offsets = offsets;
            this.slots = new Slot[qd];
            for (int i = 0; i < qd; i++) {
                slots[i] = new Slot(source);
            }
        }

        CompletableFuture<Void> start() {
            done = new CompletableFuture<>();
            issued = 0;
            completed = 0;
            for (Slot slot : slots) {
                issue(slot);
            }
            return done;
        }

        private void issue(Slot slot) {
            issued++;
            slot.source.read(offsets.next(), slot.buffer, slot.region).whenComplete(slot);
        }

        String progress() {
            return issued + " of " + READS + " reads issued, " + completed + " completed, queue depth " + slots.length;
        }

        void free() {
            for (Slot slot : slots) {
                slot.buffer.close();
            }
        }

        final class Slot implements BiConsumer<Integer, Throwable> {
            final IoSource source;
            final IoBuffer buffer = IoBuffer.allocate(BLOCK);
            final MemRegion[] region = {new MemRegion(0, BLOCK)};

            Slot(IoSource source) {
                this.source = source;
            }

            @Override
            public void accept(Integer count, Throwable failure) {
                if (failure != null) {
                    done.completeExceptionally(failure);
                    return;
                }
                if (count != BLOCK) {
                    done.completeExceptionally(new IOException("short read: " + count));
                    return;
                }
                completed++;
                if (issued < READS) {
                    issue(this);
                } else if (completed == READS) {
                    done.complete(null);
                }
            }
        }
    }
}
