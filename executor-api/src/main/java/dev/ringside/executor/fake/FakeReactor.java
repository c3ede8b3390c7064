package dev.ringside.executor.fake;

import dev.ringside.executor.AbstractIoSource;
import dev.ringside.executor.Fd;
import dev.ringside.executor.IoOperation;
import dev.ringside.executor.IoOperation.Kind;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.Linux;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A reactor for tests: no descriptors, no threads of its own, virtual time, in-memory files and
 * pipes, scripted faults and an operation log. It runs the same {@link RawExecutor} code and passes
 * the same contract suite as the io_uring and epoll reactors.
 *
 * <h2>Virtual time</h2>
 * {@link #nanoTime()} starts at {@link #START_NANOS} and moves only when the loop would otherwise
 * block until a deadline: then it jumps to that deadline at once, so sleeping an hour takes no wall
 * time. With no deadline and nothing to complete, the loop really blocks until {@link #wake()} (a
 * task on another thread or executor) or {@link #releaseHeld()}. {@link #advance(Duration)} moves the
 * clock by hand; the clock saturates one below {@link #NO_DEADLINE} and never goes back.
 *
 * <p>The jump does not wait for work on other threads: a {@code spawnBlocking} call, or a thread that
 * will {@code execute} something, races it. A test that needs such work to beat a timeout must await
 * that work first, or hold the clock with {@link #advance} alone (sleep no longer than the work's
 * answer takes to arrive). For the same reason a {@code close()} whose drain waits for held
 * completions jumps to its drain deadline at once: release them ({@link #releaseHeld()}) before
 * closing, or they are leaked, as the kernel's would be past the deadline.
 *
 * <h2>Operations</h2>
 * An operation takes effect when it starts (on the loop thread) and its completion is delivered at
 * the next {@link #waitForWork}, as a kernel would; pipe operations that cannot proceed wait until the
 * pipe changes. Faults can be scripted: an errno for the n-th operation ({@link #failOperation}) or the
 * next one of a kind ({@link #failNext}), transfers cut short ({@link #limitTransfers}), and
 * completions held back until the test releases them ({@link #holdCompletions},
 * {@link #releaseHeld()}). A held operation, even cancelled, keeps its memory, as an operation the
 * kernel has not handed back does. A pipe write of at most {@value #PIPE_BUF} bytes (or the capacity,
 * if smaller) is atomic, as on Linux: it waits until it fits whole, and the write end polls writable
 * only with that much room; a longer one transfers what fits.
 *
 * <h2>Threads</h2>
 * Everything is confined to the executor's loop thread except {@link #wake()}, {@link #nanoTime()},
 * {@link #advance}, {@link #releaseHeld()}, {@link #heldCount()}, {@link #operationLog()} and the
 * fault setters, which any thread may call. Released completions cross threads through a concurrent
 * queue; {@code wakePending} and {@code loopThread} are volatile.
 */
public final class FakeReactor implements Reactor {

    /** Pipe writes of at most this many bytes are atomic (Linux's {@code PIPE_BUF}). */
    public static final int PIPE_BUF = 4096;

    /** The virtual clock's first value, in nanoseconds. */
    public static final long START_NANOS = 1_000_000_000L;


    private final AtomicLong clock = new AtomicLong(START_NANOS);
    private volatile boolean wakePending;
    private volatile Thread loopThread;
    private final ConcurrentLinkedQueue<Pending> released = new ConcurrentLinkedQueue<>();
    /** Held completions: guarded by itself (the loop adds, any thread releases). */
    private final List<Pending> held = new ArrayList<>();
    /** Guarded by itself. */
    private final List<LoggedOperation> log = new ArrayList<>();
    /** Scripted faults, guarded by {@code this}. */
    private final Map<Long, Integer> failBySequence = new HashMap<>();
    private final Map<Kind, ArrayDeque<Integer>> failByKind = new EnumMap<>(Kind.class);
    private volatile int transferLimit;
    private volatile boolean holding;

    // Loop-confined.
    private long sequence;
    private int labels;
    private final List<Pending> waiting = new ArrayList<>();
    private final ArrayDeque<Pending> ready = new ArrayDeque<>();
    private CompletableFuture<Void> drain;
    private boolean closed;

    /** A fake reactor with its clock at {@link #START_NANOS}. */
    public FakeReactor() {
    }

    // ---------------------------------------------------------------- test controls

    /** An in-memory file holding a copy of {@code initialContents}. Any thread. */
    public FakeFile newFile(byte[] initialContents) {
        return new FakeFile(Objects.requireNonNull(initialContents, "initialContents"));
    }

    /** Opens {@code file} as a source of {@code executor}, with its own position starting at 0. */
    public IoSource open(RawExecutor<? extends FakeReactor> executor, FakeFile file) {
        Objects.requireNonNull(file, "file");
        return new FakeSource(executor, file, null, false, "file");
    }

    /** A pipe of {@code capacity} bytes whose ends are sources of {@code executor}. */
    public FakePipe newPipe(RawExecutor<? extends FakeReactor> executor, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("newPipe: capacity must be at least 1: " + capacity);
        }
        PipeBuffer pipe = new PipeBuffer(capacity);
        return new FakePipe(new FakeSource(executor, null, pipe, true, "pipe read end"),
                new FakeSource(executor, null, pipe, false, "pipe write end"));
    }

    /** A pipe of 65536 bytes, the Linux default. */
    public FakePipe newPipe(RawExecutor<? extends FakeReactor> executor) {
        return newPipe(executor, 65536);
    }

    /** The n-th operation this reactor starts (1-based, counting every kind) fails with {@code errno}. */
    public synchronized FakeReactor failOperation(long n, int errno) {
        failBySequence.put(n, checkErrno(errno));
        return this;
    }

    /** The next operation of {@code kind} fails with {@code errno} (queued: call twice for two). */
    public synchronized FakeReactor failNext(Kind kind, int errno) {
        failByKind.computeIfAbsent(kind, k -> new ArrayDeque<>()).add(checkErrno(errno));
        return this;
    }

    /** Every read and write transfers at most {@code maxBytes} (short reads and writes); 0: no limit. */
    public FakeReactor limitTransfers(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("limitTransfers: negative " + maxBytes);
        }
        transferLimit = maxBytes;
        return this;
    }

    /** While on, completions are held back instead of delivered, until {@link #releaseHeld()}. */
    public FakeReactor holdCompletions(boolean hold) {
        synchronized (held) { // with finish's check: a completion is held only while holding is on
            holding = hold;
        }
        return this;
    }

    /** Delivers every held completion at the loop's next wait; returns how many. Any thread. */
    public int releaseHeld() {
        int count;
        synchronized (held) {
            if (closed) {
                return 0; // closed: nothing is delivered any more; what is held stays held (leaked)
            }
            count = held.size();
            released.addAll(held);
            held.clear();
        }
        wake();
        return count;
    }

    /** Completions held back now. Any thread. */
    public int heldCount() {
        synchronized (held) {
            return held.size();
        }
    }

    /** Moves the virtual clock forward by {@code duration}. Any thread. */
    public void advance(Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("advance: time only moves forward: " + duration);
        }
        long nanos = TimeUnit.NANOSECONDS.convert(duration); // saturates
        clock.accumulateAndGet(nanos, (now, by) -> now + by < now || now + by == NO_DEADLINE ? NO_DEADLINE - 1 : now + by);
        wake();
    }

    /** A snapshot of the completed operations, in completion order. Any thread. */
    public List<LoggedOperation> operationLog() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    // ---------------------------------------------------------------- Reactor

    @Override
    public void onThreadStart() {
        loopThread = Thread.currentThread();
    }

    @Override
    public void waitForWork(long deadlineNanos, Runnable setProcessing) {
        loopThread = Thread.currentThread();
        long now = clock.get();
        if (ready.isEmpty() && released.isEmpty() && !wakePending && deadlineNanos - now > 0) {
            if (deadlineNanos != NO_DEADLINE) {
                clock.accumulateAndGet(deadlineNanos, Math::max); // nothing else can happen: jump
            } else {
                boolean interrupted = false;
                while (!wakePending && released.isEmpty()) {
                    LockSupport.park(this);
                    interrupted |= Thread.interrupted(); // else park returns at once: a busy loop
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        wakePending = false;
        setProcessing.run();
        Pending pending;
        while ((pending = released.poll()) != null) {
            ready.add(pending);
        }
        while ((pending = ready.poll()) != null) {
            deliver(pending);
        }
        checkDrained();
    }

    @Override
    public void wake() {
        wakePending = true;
        Thread thread = loopThread;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    @Override
    public CompletionStage<Void> onExecutorDrop() {
        for (Pending pending : waiting.toArray(Pending[]::new)) {
            pending.cancelRequested = true;
            waiting.remove(pending);
            finish(pending, -Errno.ECANCELED);
        }
        synchronized (held) {
            held.forEach(pending -> pending.cancelRequested = true);
        }
        drain = new CompletableFuture<>();
        checkDrained();
        return drain;
    }

    @Override
    public long nanoTime() {
        return clock.get();
    }

    /** Always fails: the fake reactor has no kernel descriptors; use {@link #newPipe} and {@link #open}. */
    @Override
    public IoSource newSource(RawExecutor<?> executor, Fd fd) throws IOException {
        throw new IOException("FakeReactor.newSource(" + fd + "): the fake reactor has no kernel descriptors; "
                + "use FakeReactor.newPipe, newFile and open");
    }

    /** Marks the reactor closed; completions still held are dropped with their memory (leaked). */
    @Override
    public void close() {
        closed = true;
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    // ---------------------------------------------------------------- operations

    private static int checkErrno(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno must be positive: " + errno);
        }
        return errno;
    }

    private synchronized Integer scriptedFault(long n, Kind kind) {
        Integer errno = failBySequence.remove(n);
        if (errno == null) {
            ArrayDeque<Integer> queue = failByKind.get(kind);
            errno = queue == null ? null : queue.poll();
        }
        return errno;
    }

    private void start(FakeSource source, IoOperation op) {
        Pending pending = new Pending(op, source, ++sequence, clock.get());
        source.holds++;
        Integer errno = scriptedFault(pending.sequence, op.kind());
        if (errno != null) {
            finish(pending, -errno);
        } else if (!attempt(pending)) {
            waiting.add(pending);
        } else {
            progress();
        }
    }

    private void cancel(IoOperation op) {
        for (Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
            Pending pending = it.next();
            if (pending.op == op) {
                it.remove();
                pending.cancelRequested = true;
                finish(pending, -Errno.ECANCELED);
                return;
            }
        }
        synchronized (held) {
            for (Pending pending : held) {
                if (pending.op == op) {
                    pending.cancelRequested = true; // the "kernel" has not handed it back yet
                }
            }
        }
        for (Pending pending : ready) {
            if (pending.op == op) {
                pending.cancelRequested = true;
            }
        }
    }

    private void finish(Pending pending, long result) {
        pending.result = result;
        synchronized (held) { // checked and added under the lock holdCompletions sets it under
            if (holding) {
                held.add(pending);
                return;
            }
        }
        ready.add(pending);
    }

    private void deliver(Pending pending) {
        synchronized (log) {
            log.add(new LoggedOperation(pending.sequence, pending.startedAt, clock.get(), pending.op.kind(),
                    pending.source.label, pending.op.offset(), pending.op.length(), pending.result,
                    pending.cancelRequested || pending.op.isDone())); // done before delivery: cancelled or finished from outside
        }
        pending.op.complete(pending.result);
        pending.source.holds--;
        pending.source.closeIfUnheld();
    }

    private void checkDrained() {
        if (drain != null && !drain.isDone() && waiting.isEmpty() && ready.isEmpty() && released.isEmpty()
                && heldCount() == 0) {
            drain.complete(null);
        }
    }

    /** Retries waiting pipe operations until none can proceed. */
    private void progress() {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (Iterator<Pending> it = waiting.iterator(); it.hasNext(); ) {
                Pending pending = it.next();
                if (attempt(pending)) {
                    it.remove();
                    moved = true;
                }
            }
        }
    }

    /** Performs the operation if it can proceed now; true if it finished. */
    private boolean attempt(Pending pending) {
        IoOperation op = pending.op;
        FakeSource source = pending.source;
        PipeBuffer pipe = source.pipe;
        if (pipe != null) {
            if (op.offset() != IoSource.CURRENT_POSITION && (op.kind() == Kind.READ || op.kind() == Kind.WRITE)) {
                finish(pending, -Errno.ESPIPE);
                return true;
            }
            return switch (op.kind()) {
                case READ -> {
                    if (!source.readEnd) {
                        finish(pending, -Errno.EBADF);
                    } else if (op.length() == 0) {
                        finish(pending, 0); // as read(2): nothing asked, nothing waited for
                    } else if (pipe.size > 0) {
                        byte[] bytes = pipe.take(limit(op.length()));
                        scatter(op, bytes, bytes.length);
                        finish(pending, bytes.length);
                    } else if (pipe.writerClosed) {
                        finish(pending, 0);
                    } else {
                        yield false;
                    }
                    yield true;
                }
                case WRITE -> {
                    if (source.readEnd) {
                        finish(pending, -Errno.EBADF);
                    } else if (op.length() == 0) {
                        finish(pending, 0); // as write(2) on a pipe: before it looks for a reader
                    } else if (pipe.readerClosed) {
                        finish(pending, -Errno.EPIPE);
                    } else if (op.length() <= pipe.atomicSize() && pipe.space() < op.length()) {
                        yield false; // atomic: waits until it fits whole
                    } else if (pipe.space() > 0) {
                        int count = Math.min(pipe.space(), limit(op.length()));
                        pipe.put(gather(op, count));
                        finish(pending, count);
                    } else {
                        yield false;
                    }
                    yield true;
                }
                // As poll(2) on a pipe: POLLHUP (read end, no writer) and POLLERR (write end, no reader)
                // are reported whichever events were asked for.
                case POLL_READABLE, POLL_WRITABLE -> {
                    int events = op.kind() == Kind.POLL_READABLE ? Linux.POLLIN : Linux.POLLOUT;
                    int ready = source.readEnd
                            ? (pipe.size > 0 ? Linux.POLLIN : 0) | (pipe.writerClosed ? Linux.POLLHUP : 0)
                            : (pipe.space() >= pipe.atomicSize() ? Linux.POLLOUT : 0) | (pipe.readerClosed ? Linux.POLLERR : 0);
                    int reported = ready & (events | Linux.POLLHUP | Linux.POLLERR);
                    if (reported != 0) {
                        finish(pending, reported);
                        yield true;
                    }
                    yield false;
                }
                case FSYNC, FDATASYNC -> {
                    finish(pending, -Errno.EINVAL);
                    yield true;
                }
                case FALLOCATE -> {
                    finish(pending, source.readEnd ? -Errno.EBADF : -Errno.ESPIPE); // the kernel checks for write access first
                    yield true;
                }
                case NOP -> {
                    finish(pending, 0);
                    yield true;
                }
            };
        }
        FakeFile file = source.file;
        switch (op.kind()) {
            case READ -> {
                long at = op.offset() == IoSource.CURRENT_POSITION ? source.position : op.offset();
                if (at > Long.MAX_VALUE - op.length()) {
                    finish(pending, -Errno.EINVAL); // the range's end overflows a file offset, as read(2) reports it
                    return true;
                }
                byte[] bytes = new byte[limit(op.length())];
                int count = file.read(at, bytes, bytes.length);
                scatter(op, bytes, count);
                if (op.offset() == IoSource.CURRENT_POSITION) {
                    source.position += count;
                }
                finish(pending, count);
            }
            case WRITE -> {
                long at = op.offset() == IoSource.CURRENT_POSITION ? source.position : op.offset();
                int count = limit(op.length());
                // As write(2) on a regular file: an end past the largest offset is EINVAL; nothing to
                // write is 0 wherever it is; a start at or past the largest file is EFBIG, and a write
                // that would cross it is cut short there.
                if (at > Long.MAX_VALUE - op.length()) {
                    finish(pending, -Errno.EINVAL);
                    return true;
                }
                if (count > 0 && at >= FakeFile.MAX_SIZE) {
                    finish(pending, -Errno.EFBIG);
                    return true;
                }
                count = (int) Math.min(count, Math.max(0, FakeFile.MAX_SIZE - at));
                file.write(at, gather(op, count), count);
                if (op.offset() == IoSource.CURRENT_POSITION) {
                    source.position += count;
                }
                finish(pending, count);
            }
            case POLL_READABLE -> finish(pending, Linux.POLLIN);
            case POLL_WRITABLE -> finish(pending, Linux.POLLOUT);
            case FSYNC, FDATASYNC, NOP -> finish(pending, 0);
            case FALLOCATE -> {
                if (op.offset() + op.length() > FakeFile.MAX_SIZE) {
                    finish(pending, -Errno.EFBIG); // in every mode, as fallocate(2) checks the end first
                    return true;
                }
                switch (op.fallocateMode()) {
                    case IoOperation.FALLOCATE_PUNCH_HOLE, IoOperation.FALLOCATE_ZERO_RANGE ->
                            file.zero(op.offset(), op.length(), true);
                    default -> {
                        if (op.offset() + op.length() > file.size()) {
                            file.zero(file.size(), op.offset() + op.length() - file.size(), false);
                        }
                    }
                }
                finish(pending, 0);
            }
        }
        return true;
    }

    private int limit(long length) {
        int max = transferLimit;
        return (int) (max > 0 ? Math.min(length, max) : length);
    }

    private static void scatter(IoOperation op, byte[] bytes, int count) {
        int done = 0;
        for (int i = 0; i < op.bufferCount() && done < count; i++) {
            MemorySegment buffer = op.buffer(i);
            int n = (int) Math.min(buffer.byteSize(), count - done);
            MemorySegment.copy(bytes, done, buffer, ValueLayout.JAVA_BYTE, 0, n);
            done += n;
        }
    }

    private static byte[] gather(IoOperation op, int count) {
        byte[] bytes = new byte[count];
        int done = 0;
        for (int i = 0; i < op.bufferCount() && done < count; i++) {
            MemorySegment buffer = op.buffer(i);
            int n = (int) Math.min(buffer.byteSize(), count - done);
            MemorySegment.copy(buffer, ValueLayout.JAVA_BYTE, 0, bytes, done, n);
            done += n;
        }
        return bytes;
    }

    /** An operation between its start and its delivery. */
    private static final class Pending {
        final IoOperation op;
        final FakeSource source;
        final long sequence;
        final long startedAt;
        long result;
        volatile boolean cancelRequested;

        Pending(IoOperation op, FakeSource source, long sequence, long startedAt) {
            this.op = op;
            this.source = source;
            this.sequence = sequence;
            this.startedAt = startedAt;
        }
    }

    /** The bytes in a fake pipe: a ring buffer. Loop-confined. */
    private static final class PipeBuffer {
        final byte[] ring;
        int head, size;
        boolean readerClosed, writerClosed;

        PipeBuffer(int capacity) {
            ring = new byte[capacity];
        }

        int space() {
            return ring.length - size;
        }

        /** Writes of at most this many bytes are atomic: {@link #PIPE_BUF}, or the capacity if smaller. */
        int atomicSize() {
            return Math.min(PIPE_BUF, ring.length);
        }

        byte[] take(int max) {
            byte[] out = new byte[Math.min(max, size)];
            for (int i = 0; i < out.length; i++) {
                out[i] = ring[(head + i) % ring.length];
            }
            head = (head + out.length) % ring.length;
            size -= out.length;
            return out;
        }

        void put(byte[] bytes) {
            for (byte b : bytes) {
                ring[(head + size) % ring.length] = b;
                size++;
            }
        }
    }

    /** A source over a fake file or one end of a fake pipe. */
    private final class FakeSource extends AbstractIoSource {
        final FakeFile file;
        final PipeBuffer pipe;
        final boolean readEnd;
        final String label;
        /** The current file position (loop-confined). */
        long position;
        /** Operations started and not yet delivered, and whether close() was called (loop-confined). */
        int holds;
        boolean closeRequested;

        FakeSource(RawExecutor<?> executor, FakeFile file, PipeBuffer pipe, boolean readEnd, String kind) {
            this(executor, file, pipe, readEnd, kind, nextLabel());
        }

        private FakeSource(RawExecutor<?> executor, FakeFile file, PipeBuffer pipe, boolean readEnd, String kind,
                           int number) {
            super(executor, number, pipe == null);
            if (executor.reactor() != FakeReactor.this) {
                throw new IllegalArgumentException("the executor does not run this FakeReactor");
            }
            this.file = file;
            this.pipe = pipe;
            this.readEnd = readEnd;
            this.label = kind + " " + number;
        }

        @Override
        protected void start(IoOperation operation) {
            FakeReactor.this.start(this, operation);
        }

        @Override
        protected void cancel(IoOperation operation) {
            FakeReactor.this.cancel(operation);
        }

        @Override
        protected void closed() {
            closeRequested = true;
            closeIfUnheld();
        }

        /**
         * An operation in flight holds the pipe end as the kernel holds the file: the end closes once
         * the source is closed and no operation holds it any more.
         */
        void closeIfUnheld() {
            if (pipe != null && closeRequested && holds == 0) {
                if (readEnd) {
                    pipe.readerClosed = true;
                } else {
                    pipe.writerClosed = true;
                }
                progress();
            }
        }
    }

    private synchronized int nextLabel() {
        return ++labels;
    }
}
