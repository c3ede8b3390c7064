package dev.ringside.executor;

import dev.ringside.executor.IoOperation.Kind;
import dev.ringside.executor.linux.Errno;
import dev.ringside.executor.linux.LibC;
import dev.ringside.executor.linux.Linux;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The base of every reactor's {@link IoSource}: it checks arguments, takes the memory and descriptor
 * holds, bounces heap memory through native memory, routes each operation to the loop thread of its
 * executor and ties it to the calling task. A reactor implements two methods, both called only on that
 * loop thread: {@link #start(IoOperation)} and {@link #cancel(IoOperation)}.
 *
 * <p>Threads: the public methods may be called from any thread. {@code closed} is volatile; the
 * descriptor is held with {@link Fd}'s reference count, so {@link #close()} racing an operation either
 * fails the operation's {@link Fd#retain()} (the caller sees {@link IllegalStateException}) or is
 * deferred until the operation completes.
 *
 * <p>Operations issued on the loop thread of the source's executor share one hold: the first takes it
 * with {@link Fd#retain()}, the others count themselves in {@code loopHoldUsers}, and the last to
 * complete releases it. That spares two atomic read-modify-writes per operation when a loop keeps
 * several in flight, and changes nothing for {@link #close()}: while any of them is in flight the
 * descriptor has a hold. Operations issued on other threads take a hold each.
 */
public abstract class AbstractIoSource implements IoSource {

    private final RawExecutor<?> executor;
    /** The owned descriptor; null for a source with no kernel descriptor (the fake reactor's). */
    private final Fd fd;
    private final int label;
    /** Whether the descriptor has a file position (not a pipe, socket or other stream). */
    private final boolean seekable;
    private volatile boolean closed;
    /**
     * Operations in flight that share the loop's hold on {@code fd}: confined to the thread running
     * the executor's loop (issued there, completed there).
     */
    private int loopHoldUsers;
    /**
     * The read or write at {@link #CURRENT_POSITION} of this (seekable) source that is in the reactor,
     * or next to start; the others wait in {@link #positionWaiters}, in the order they were issued. See
     * {@link RawExecutor}'s <em>The file position</em>. Loop thread.
     */
    IoOperation positionHolder;
    /** Reads and writes at the current position waiting for {@link #positionHolder}; null until needed. Loop thread. */
    ArrayDeque<IoOperation> positionWaiters;

    /** A source of {@code executor} owning {@code fd}. */
    protected AbstractIoSource(RawExecutor<?> executor, Fd fd) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.fd = Objects.requireNonNull(fd, "fd");
        this.label = -1;
        // pread(2) refuses an offset with ESPIPE on a descriptor without a position, and so does every
        // reactor, through RawExecutor's start (io_uring alone would ignore the offset). A stream refuses
        // lseek with ESPIPE; an anonymous inode (eventfd, timerfd, signalfd: no file type) accepts it
        // but not pread.
        this.seekable = LibC.lseek(fd.intValue(), 0, Linux.SEEK_CUR) != -Errno.ESPIPE && LibC.fileType(fd.intValue()) != 0;
    }

    /**
     * A source with no kernel descriptor, for reactors that simulate IO (the fake reactor);
     * {@code label} stands for the descriptor number in operations and error messages, and
     * {@code seekable} says whether it has a file position.
     */
    protected AbstractIoSource(RawExecutor<?> executor, int label, boolean seekable) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.fd = null;
        this.label = label;
        this.seekable = seekable;
    }

    /**
     * Whether the source has a file position. A read or write at an offset (not
     * {@link #CURRENT_POSITION}) on a source without one fails with {@code ESPIPE}, as {@code pread(2)}
     * does, without reaching the reactor.
     */
    public final boolean isSeekable() {
        return seekable;
    }

    /**
     * Hands a new operation to the reactor. Loop thread only; called once per operation. The reactor
     * must eventually call {@link IoOperation#complete(long)}, also when it cannot submit (with
     * {@code -errno}); it may not throw.
     */
    protected abstract void start(IoOperation operation);

    /**
     * Asks the reactor to cancel a started, not yet completed operation. Loop thread only; called at
     * most once per operation. The operation still completes through {@link IoOperation#complete(long)}
     * when the kernel hands it back, with whatever result the kernel gives.
     */
    protected abstract void cancel(IoOperation operation);

    /**
     * Makes {@code number}, a descriptor the reactor opened for this source's own calls (such as a
     * private non-blocking description of the same pipe), close together with the source's descriptor:
     * once the source is closed and no operation holds the descriptor any more. So the number stays
     * open while any operation of this source is in flight. At most once, before the source is handed
     * out (from {@link Reactor#newSource}).
     *
     * @throws IllegalStateException if the source has no descriptor, or the descriptor is already closed,
     *         or this was called before; {@code number} is then closed at once
     * @throws IllegalArgumentException if {@code number} is negative or the source's own descriptor
     */
    protected final void closeWithDescriptor(int number) {
        if (fd == null) {
            LibC.close(number);
            throw new IllegalStateException("closeWithDescriptor: the source has no descriptor");
        }
        fd.closeTogether(number);
    }

    /** The descriptor this source owns; null for a source made with a label. */
    protected final Fd fd() {
        return fd;
    }

    /**
     * Called once on the loop thread after {@link #close()}; operations in flight still complete
     * normally. The default does nothing.
     */
    protected void closed() {
    }

    @Override
    public final RawExecutor<?> executor() {
        return executor;
    }

    @Override
    public final boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (fd != null) {
                fd.close();
            }
            executor.onLoop(this::closed);
        }
    }

    @Override
    public final CompletableFuture<Integer> read(long offset, BackingMemory mem, MemRegion... regions) {
        return readWrite(Kind.READ, offset, mem, regions);
    }

    @Override
    public final CompletableFuture<Integer> write(long offset, BackingMemory mem, MemRegion... regions) {
        return readWrite(Kind.WRITE, offset, mem, regions);
    }

    @Override
    public final CompletableFuture<Integer> read(long offset, byte[] buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkOffset("read", offset);
        return bounced(Kind.READ, offset, IoBuffer.allocate(buffer.length, 8), buffer);
    }

    @Override
    public final CompletableFuture<Integer> write(long offset, byte[] buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkOffset("write", offset);
        return bounced(Kind.WRITE, offset, IoBuffer.copyOf(buffer), buffer);
    }

    @Override
    public final CompletableFuture<Integer> read(long offset, ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkOffset("read", offset);
        if (buffer.isReadOnly()) {
            throw new IllegalArgumentException("read: the ByteBuffer is read-only");
        }
        return bounced(Kind.READ, offset, IoBuffer.allocate(buffer.remaining(), 8), buffer);
    }

    @Override
    public final CompletableFuture<Integer> write(long offset, ByteBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkOffset("write", offset);
        IoBuffer bounce = IoBuffer.allocate(buffer.remaining(), 8);
        MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, bounce.segment(), 0, buffer.remaining());
        return bounced(Kind.WRITE, offset, bounce, buffer);
    }

    @Override
    public final CompletableFuture<Void> nop() {
        return submit(Kind.NOP, 0, 0, 0, null, null, null);
    }

    @Override
    public final CompletableFuture<Void> waitReadable() {
        return submit(Kind.POLL_READABLE, 0, 0, 0, null, null, null);
    }

    @Override
    public final CompletableFuture<Void> waitWritable() {
        return submit(Kind.POLL_WRITABLE, 0, 0, 0, null, null, null);
    }

    @Override
    public final CompletableFuture<Void> fsync() {
        return submit(Kind.FSYNC, 0, 0, 0, null, null, null);
    }

    @Override
    public final CompletableFuture<Void> fdatasync() {
        return submit(Kind.FDATASYNC, 0, 0, 0, null, null, null);
    }

    @Override
    public final CompletableFuture<Void> punchHole(long offset, long length) {
        return fallocate("punchHole", offset, length, IoOperation.FALLOCATE_PUNCH_HOLE);
    }

    @Override
    public final CompletableFuture<Void> writeZeroes(long offset, long length) {
        return fallocate("writeZeroes", offset, length, IoOperation.FALLOCATE_ZERO_RANGE);
    }

    @Override
    public final CompletableFuture<Void> fallocate(long offset, long length) {
        return fallocate("fallocate", offset, length, IoOperation.FALLOCATE_ALLOCATE);
    }

    private CompletableFuture<Void> fallocate(String call, long offset, long length, int mode) {
        if (offset < 0 || length <= 0 || offset + length < 0) {
            throw new IllegalArgumentException(call + "(" + offset + ", " + length
                    + "): offset must be at least 0, length at least 1, and the end must not overflow");
        }
        return submit(Kind.FALLOCATE, offset, length, mode, null, null, null);
    }

    private CompletableFuture<Integer> readWrite(Kind kind, long offset, BackingMemory mem, MemRegion[] regions) {
        String call = kind.call();
        Objects.requireNonNull(mem, "mem");
        Objects.requireNonNull(regions, "regions");
        checkOffset(call, offset);
        if (regions.length == 0 || regions.length > Linux.IOV_MAX) {
            throw new IllegalArgumentException(call + ": " + regions.length + " memory regions; from 1 to "
                    + Linux.IOV_MAX + " (IOV_MAX) are allowed in one operation");
        }
        MemorySegment segment = mem.segment();
        if (!segment.isNative()) {
            throw new IllegalArgumentException(call + ": the memory is a heap segment; the kernel needs native memory"
                    + " (IoBuffer, or a byte[] or ByteBuffer, which go through native memory)");
        }
        if (kind == Kind.READ && segment.isReadOnly()) {
            throw new IllegalArgumentException(call + ": the memory is read-only; a read writes into it");
        }
        long size = segment.byteSize();
        // One region is kept as it is (a record cannot change); several are copied, as the caller may
        // reuse its array.
        MemRegion[] checked = regions.length == 1 ? regions : regions.clone();
        long total = 0;
        for (int i = 0; i < checked.length; i++) {
            MemRegion region = checked[i];
            if (region == null) { // the message is built only on failure
                throw new NullPointerException("regions[" + i + "]");
            }
            if (region.end() > size) {
                throw new IllegalArgumentException(call + ": region " + i + " [" + region.offset() + ", "
                        + region.end() + ") is outside the memory of " + size + " bytes");
            }
            total += region.length();
            if (total > Integer.MAX_VALUE) { // checked as it grows: a sum of huge regions cannot wrap around
                break;
            }
        }
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(call + ": " + total + " bytes in one operation; at most "
                    + Integer.MAX_VALUE);
        }
        return submit(kind, offset, total, 0, mem, checked.length == 1 ? checked[0] : checked, null);
    }

    /** Submits a read or write through {@code bounce}, whose one reference passes to the operation. */
    private CompletableFuture<Integer> bounced(Kind kind, long offset, IoBuffer bounce, Object target) {
        try {
            return submit(kind, offset, bounce.size(), 0, bounce, new MemRegion(0, bounce.size()), target);
        } finally {
            bounce.release(); // the operation holds its own reference from now on
        }
    }

    private static void checkOffset(String call, long offset) {
        if (offset < CURRENT_POSITION) {
            throw new IllegalArgumentException(call + ": offset " + offset
                    + " is negative and not IoSource.CURRENT_POSITION (-1)");
        }
    }

    private <T> CompletableFuture<T> submit(Kind kind, long offset, long length, int mode, BackingMemory mem,
                                            Object regions, Object bounceTarget) {
        if (closed) {
            throw new IllegalStateException(kind.call() + ": the IoSource is closed");
        }
        executor.checkAccepting(kind.call());
        boolean onSourceLoop = executor.isLoopThread();
        if (fd != null) {
            if (!onSourceLoop || loopHoldUsers == 0) {
                try {
                    fd.retain(); // one step: a concurrent close() cannot strand the hold
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(kind.call() + ": the IoSource is closed", e);
                }
            } // else the loop's hold, which keeps the number open, covers this operation too
            if (onSourceLoop) {
                loopHoldUsers++;
            }
        }
        if (mem != null) {
            try {
                mem.retainForOperation();
            } catch (RuntimeException e) {
                releaseDescriptor(onSourceLoop);
                throw e;
            }
        }
        // The executor whose loop runs this thread: usually the source's own (a cheap check), else
        // another executor's, whose task may await this source, else none.
        RawExecutor<?> caller = onSourceLoop ? executor : RawExecutor.currentLoop();
        Task<?> owner = caller == null ? null : caller.currentTask();
        RawExecutor<?> completion = caller == null ? executor : caller;
        IoOperation operation = switch (kind) {
            case READ, WRITE, FALLOCATE -> new IoOperation.Ranged(this, kind, offset, length, mode, mem, regions,
                    bounceTarget, owner, completion, onSourceLoop);
            default -> new IoOperation(this, kind, owner, completion, onSourceLoop);
        };
        if (owner != null) {
            owner.addChild(operation);
        }
        executor.startOperation(operation, onSourceLoop);
        @SuppressWarnings("unchecked")
        CompletableFuture<T> future = (CompletableFuture<T>) (CompletableFuture<?>) operation;
        return future;
    }

    /**
     * The descriptor number (the label of a source without one); it stays valid while an operation
     * holds the descriptor, even after {@link #close()}.
     */
    final int descriptorNumber() {
        return fd != null ? fd.heldNumber() : label;
    }

    /**
     * Drops an operation's hold on the descriptor; {@code loopHold}: the operation was issued on the
     * loop thread and shares the loop's hold. Called on the loop thread.
     */
    void releaseDescriptor(boolean loopHold) {
        if (fd != null && (!loopHold || --loopHoldUsers == 0)) {
            fd.release();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + (fd != null ? fd : "label " + label) + (closed ? ", closed" : "") + "]";
    }
}
