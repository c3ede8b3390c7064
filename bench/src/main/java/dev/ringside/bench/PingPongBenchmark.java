package dev.ringside.bench;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
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
 * One-byte ping-pong over {@link Shape#pairs} pairs at once, all on one thread: a driver writes a byte,
 * an echo reads it and writes it back, the driver reads it and sends the next. {@code kind=pipe}: two
 * pipes per pair (ping and pong); {@code kind=socketpair}: one UNIX-domain stream socket pair. Every
 * invocation does {@value #ROUND_TRIPS} round trips in all (spread evenly over the pairs); the score is
 * per round trip.
 *
 * <ul>
 *   <li>{@code uring}, {@code uringDefer} (io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN}),
 *       {@code epoll}: ringside on that reactor; driver and echo are callbacks of IO
 *       futures on the loop ({@link IoSource#read}/{@link IoSource#write} of 1-byte regions of an
 *       {@link IoBuffer}), driven by {@link RawExecutor#runUntil}.</li>
 *   <li>{@code nio}: a JDK {@link Selector} loop on the benchmark thread over non-blocking NIO
 *       {@link Pipe}s or UNIX-domain {@link SocketChannel}s.</li>
 * </ul>
 * Every loop has the same watchdog, so that a lost wake-up fails the run instead of hanging it: the
 * ringside loops run until the round trips are done or a {@link #STUCK} sleep fires, and the NIO loop
 * selects with the same timeout. Either way each wait is a wait with a timeout, as it is in a server
 * with timers.
 * The epoll run doubles as the baseline of the io_uring run (target: io_uring at least as fast with
 * 64 pairs, at least 0.9× with one).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PingPongBenchmark {

    static final int ROUND_TRIPS = 4096;
    static final Duration STUCK = Duration.ofSeconds(30);

    /** What is ping-ponged over, and how many pairs at once. */
    @State(Scope.Thread)
    public static class Shape {
        @Param({"pipe", "socketpair"})
        public String kind;

        @Param({"1", "64"})
        public int pairs;
    }

    /** A ringside executor and its pairs; subclasses fix the reactor. */
    public abstract static class Loop {
        RawExecutor<?> executor;
        final List<Pair> pairs = new ArrayList<>();
        final List<IoSource> sources = new ArrayList<>();

        abstract String reactor();

        @Setup(Level.Trial)
        public void open(Shape shape) throws IOException {
            executor = Reactors.newExecutor(reactor());
            for (int i = 0; i < shape.pairs; i++) {
                Pair pair;
                if ("pipe".equals(shape.kind)) {
                    Fd.Pipe ping = Fd.pipe();
                    Fd.Pipe pong = Fd.pipe();
                    pair = new Pair(register(ping.writeEnd()), register(ping.readEnd()), register(pong.writeEnd()),
                            register(pong.readEnd()));
                } else if ("socketpair".equals(shape.kind)) {
                    Fd.SocketPair sockets = Fd.socketpair();
                    IoSource first = register(sockets.first());
                    IoSource second = register(sockets.second());
                    pair = new Pair(first, second, second, first);
                } else {
                    throw new IllegalArgumentException("kind must be pipe or socketpair: " + shape.kind);
                }
                pairs.add(pair);
            }
            // The echoes run for the whole trial, one read always pending each.
            executor.runUntil(executor.spawn(() -> {
                pairs.forEach(Pair::startEcho);
                return CompletableFuture.completedFuture(null);
            }));
        }

        private IoSource register(Fd fd) throws IOException {
            IoSource source = executor.register(fd);
            sources.add(source);
            return source;
        }

        void roundTrips() {
            int each = ROUND_TRIPS / pairs.size();
            CompletableFuture<Void> all = executor.spawn(() -> {
                CompletableFuture<?>[] done = new CompletableFuture<?>[pairs.size()];
                for (int i = 0; i < done.length; i++) {
                    done[i] = pairs.get(i).drive(each);
                }
                return CompletableFuture.allOf(done);
            });
            CompletableFuture<Void> timeout = executor.sleep(STUCK);
            executor.runUntil(CompletableFuture.anyOf(all, timeout));
            timeout.cancel(false);
            if (!all.isDone()) {
                throw new IllegalStateException(reactor() + " reactor: ping-pong stuck for " + STUCK.toSeconds() + " s");
            }
            all.join();
        }

        @TearDown(Level.Trial)
        public void close() {
            sources.forEach(IoSource::close);
            pairs.forEach(Pair::free);
            executor.close();
        }
    }

    /** The io_uring reactor. */
    @State(Scope.Thread)
    public static class UringLoop extends Loop {
        @Override
        String reactor() {
            return "uring";
        }
    }

    /**
     * The io_uring reactor with {@code SINGLE_ISSUER | DEFER_TASKRUN} ({@code singleIssuer(true)}), which
     * a runtime whose loop stays on one thread can choose: the first thread to run the loop is bound to it.
     */
    @State(Scope.Thread)
    public static class UringDeferLoop extends Loop {
        @Override
        String reactor() {
            return Reactors.URING_DEFER;
        }
    }

    /** The epoll reactor. */
    @State(Scope.Thread)
    public static class EpollLoop extends Loop {
        @Override
        String reactor() {
            return "epoll";
        }
    }

    /** One pair: the driver writes {@code pingOut} and reads {@code pongIn}; the echo the other two. */
    static final class Pair {
        final IoSource pingOut, pingIn, pongOut, pongIn;
        final IoBuffer driverByte = IoBuffer.allocate(64);
        final IoBuffer echoByte = IoBuffer.allocate(64);
        final MemRegion[] one = {new MemRegion(0, 1)};
        int left;
        CompletableFuture<Void> done;
        final BiConsumer<Integer, Throwable> pinged = this::pinged;
        final BiConsumer<Integer, Throwable> ponged = this::ponged;
        final BiConsumer<Integer, Throwable> echoRead = this::echoRead;
        final BiConsumer<Integer, Throwable> echoWritten = this::echoWritten;

        Pair(IoSource pingOut, IoSource pingIn, IoSource pongOut, IoSource pongIn) {
            this.pingOut = pingOut;
            this.pingIn = pingIn;
            this.pongOut = pongOut;
            this.pongIn = pongIn;
        }

        CompletableFuture<Void> drive(int rounds) {
            done = new CompletableFuture<>();
            left = rounds;
            ping();
            return done;
        }

        private void ping() {
            pingOut.write(IoSource.CURRENT_POSITION, driverByte, one).whenComplete(pinged);
        }

        private void pinged(Integer count, Throwable failure) {
            if (failed(count, failure)) {
                return;
            }
            pongIn.read(IoSource.CURRENT_POSITION, driverByte, one).whenComplete(ponged);
        }

        private void ponged(Integer count, Throwable failure) {
            if (failed(count, failure)) {
                return;
            }
            if (--left == 0) {
                done.complete(null);
            } else {
                ping();
            }
        }

        private boolean failed(Integer count, Throwable failure) {
            if (failure != null) {
                done.completeExceptionally(failure);
                return true;
            }
            if (count != 1) {
                done.completeExceptionally(new IOException("expected 1 byte, got " + count));
                return true;
            }
            return false;
        }

        void startEcho() {
            pingIn.read(IoSource.CURRENT_POSITION, echoByte, one).whenComplete(echoRead);
        }

        private void echoRead(Integer count, Throwable failure) {
            if (failure == null && count == 1) {
                pongOut.write(IoSource.CURRENT_POSITION, echoByte, one).whenComplete(echoWritten);
            } // otherwise closed at teardown: the echo ends
        }

        private void echoWritten(Integer count, Throwable failure) {
            if (failure == null) {
                startEcho();
            }
        }

        void free() {
            driverByte.release();
            echoByte.release();
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    @Subject(workload = "1-byte ping-pong round trip, all pairs on one loop")
    public void uring(UringLoop loop) {
        loop.roundTrips();
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    @Subject(workload = "1-byte ping-pong round trip, all pairs on one loop")
    public void uringDefer(UringDeferLoop loop) {
        loop.roundTrips();
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    @Subject(workload = "1-byte ping-pong round trip, all pairs on one loop")
    @Baseline(value = "ringside on the epoll reactor", targets = {"pairs=64:1", "pairs=1:0.9"})
    public void epoll(EpollLoop loop) {
        loop.roundTrips();
    }

    /** NIO channels in a selector. */
    @State(Scope.Thread)
    public static class Nio {
        Selector selector;
        final List<java.nio.channels.Channel> channels = new ArrayList<>();
        final List<Path> socketFiles = new ArrayList<>();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(64);
        NioPair[] pairs;
        int active;

        @Setup(Level.Trial)
        public void open(Shape shape) throws IOException {
            selector = Selector.open();
            pairs = new NioPair[shape.pairs];
            for (int i = 0; i < shape.pairs; i++) {
                NioPair pair = new NioPair();
                if ("pipe".equals(shape.kind)) {
                    Pipe ping = Pipe.open();
                    Pipe pong = Pipe.open();
                    channels.addAll(List.of(ping.sink(), ping.source(), pong.sink(), pong.source()));
                    pair.pingOut = ping.sink();
                    pair.pongOut = pong.sink();
                    register(ping.source(), pair, true);
                    register(pong.source(), pair, false);
                } else {
                    Path file = Files.createTempFile("ringside-bench", ".sock");
                    Files.delete(file);
                    socketFiles.add(file);
                    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                        server.bind(UnixDomainSocketAddress.of(file));
                        SocketChannel first = SocketChannel.open(UnixDomainSocketAddress.of(file));
                        SocketChannel second = server.accept();
                        channels.addAll(List.of(first, second));
                        pair.pingOut = first;
                        pair.pongOut = second;
                        register(second, pair, true);
                        register(first, pair, false);
                    }
                }
                pairs[i] = pair;
            }
        }

        private void register(SelectableChannel channel, NioPair pair, boolean echo) throws IOException {
            channel.configureBlocking(false);
            if (channel instanceof SocketChannel socket) {
                socket.configureBlocking(false);
            }
            channel.register(selector, SelectionKey.OP_READ, echo ? pair.echo : pair.driver);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            selector.close();
            for (java.nio.channels.Channel channel : channels) {
                channel.close();
            }
            for (Path file : socketFiles) {
                Files.deleteIfExists(file);
            }
        }

        void writeByte(WritableByteChannel channel) throws IOException {
            buffer.clear().put((byte) 1).flip();
            if (channel.write(buffer) != 1) {
                throw new IOException("a 1-byte write did not fit");
            }
        }

        void readByte(ReadableByteChannel channel) throws IOException {
            buffer.clear();
            if (channel.read(buffer) != 1) {
                throw new IOException("expected 1 byte");
            }
        }

        final class NioPair {
            WritableByteChannel pingOut, pongOut;
            int left;
            /** Handles readiness of the echo's end, or of the driver's. */
            final Handler echo = channel -> {
                readByte(channel);
                writeByte(pongOut);
            };
            final Handler driver = channel -> {
                readByte(channel);
                if (--left == 0) {
                    active--;
                } else {
                    writeByte(pingOut);
                }
            };
        }
    }

    interface Handler {
        void ready(ReadableByteChannel channel) throws IOException;
    }

    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    @Baseline(value = "JDK NIO Selector loop, one thread", minSpeedup = 1)
    public void nio(Nio nio) throws IOException {
        int each = ROUND_TRIPS / nio.pairs.length;
        nio.active = nio.pairs.length;
        for (Nio.NioPair pair : nio.pairs) {
            pair.left = each;
            nio.writeByte(pair.pingOut);
        }
        while (nio.active > 0) {
            // The same watchdog as the ringside loops' (a sleep of STUCK), so both wait with a timeout.
            if (nio.selector.select(STUCK.toMillis()) == 0 && nio.selector.selectedKeys().isEmpty()) {
                throw new IllegalStateException("NIO: ping-pong stuck for " + STUCK.toSeconds() + " s");
            }
            Iterator<SelectionKey> keys = nio.selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                ((Handler) key.attachment()).ready((ReadableByteChannel) key.channel());
            }
        }
    }
}
