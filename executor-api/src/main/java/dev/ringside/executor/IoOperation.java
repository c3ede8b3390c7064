package dev.ringside.executor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * One IO operation between its creation by an {@link AbstractIoSource} and its completion by the
 * reactor: the unit a reactor submits, cancels and completes, and at the same time the future the
 * caller of {@link IoSource} gets back (one object per operation).
 *
 * <h2>Life cycle</h2>
 * <ol>
 *   <li><b>Created</b> on the caller's thread: arguments are checked, and the operation takes a hold
 *       on its memory ({@link BackingMemory#retain()}) and on the source's descriptor.</li>
 *   <li><b>Started</b> on the loop thread of the source's executor: the executor hands it to the
 *       reactor with {@link AbstractIoSource#start(IoOperation)}, unless the future was finished
 *       (cancelled, or completed from outside) or the executor closed first, in which case it is
 *       finished without reaching the kernel.</li>
 *   <li><b>Cancel requested</b> (optional): {@link #cancel(boolean)} fails the future at once, and
 *       {@link #complete(Object)} and {@link #completeExceptionally(Throwable)} (so {@code orTimeout}
 *       and {@code completeOnTimeout} too) finish it at once; on the loop thread the reactor is then
 *       asked once ({@link AbstractIoSource#cancel(IoOperation)}) to cancel the operation in the
 *       kernel. The holds stay. A reactor tells such an operation by {@link #isDone()}, which is false
 *       until delivery otherwise.</li>
 *   <li><b>Completed</b> exactly once by the reactor, on the loop thread, with
 *       {@link #complete(long)}: the holds are released (bounce memory first copied back), and the
 *       future's completion is queued on the loop that delivers it, so no user code runs inside the
 *       reactor.</li>
 * </ol>
 *
 * <h2>Two faces</h2>
 * To the caller this is a {@link CompletableFuture} of the byte count ({@code Integer}) or of
 * {@code null}; it completes only through delivery, on the loop of the executor the caller ran on
 * (or the source's). The methods declared here ({@link #kind()}, {@link #fd()}, {@link #token()},
 * {@link #complete(long)}, ...) are the reactor's side, for {@link Reactor} implementations only:
 * {@link #complete(long)} releases memory the kernel may be writing, so nothing else may call it.
 *
 * <h2>Threads</h2>
 * Everything but the constructor and the {@link CompletableFuture} methods runs on the loop thread of
 * the source's executor, which is the only writer of {@code state}, {@code token} and the in-flight
 * links; the reactor may read and write {@link #token()} for its own bookkeeping. The sibling links
 * of {@link OwnedFuture} belong to the owner's loop thread, which may be another executor's.
 */
public sealed class IoOperation extends OwnedFuture<Object> permits IoOperation.Ranged {

    /** What an operation does; each maps to one kernel call. */
    public enum Kind {
        READ("read"), WRITE("write"), POLL_READABLE("poll(POLLIN)"), POLL_WRITABLE("poll(POLLOUT)"),
        FSYNC("fsync"), FDATASYNC("fdatasync"), FALLOCATE("fallocate"),
        /** A round trip through the reactor that touches no descriptor state. */
        NOP("nop");

        private final String call;

        Kind(String call) {
            this.call = call;
        }

        /** The name of the kernel call, as error messages print it. */
        public String call() {
            return call;
        }
    }

    /** {@code fallocate} mode: allocate, growing the file. */
    public static final int FALLOCATE_ALLOCATE = 0;
    /** {@code fallocate} mode {@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}. */
    public static final int FALLOCATE_PUNCH_HOLE = 0x02 | 0x01;
    /** {@code fallocate} mode {@code FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE}. */
    public static final int FALLOCATE_ZERO_RANGE = 0x10 | 0x01;

    static final byte NEW = 0, STARTED = 1, CANCEL_REQUESTED = 2, DONE = 3;
    /** Issued, but waiting for the read or write ahead of it at its source's current position (see {@link RawExecutor}). */
    static final byte WAITING_FOR_POSITION = 4;
    private static final Kind[] KINDS = Kind.values();
    /**
     * An outcome meaning that a thread finishing the future from outside won the claim (see
     * {@link Ranged#claimForLoop()}) and completes the future itself: delivery must leave it alone.
     */
    private static final Object FINISHED_OUTSIDE = new Object();
    /** Values of {@code Ranged.bounceClaim}. */
    private static final byte UNCLAIMED = 0, BY_LOOP = 1, BY_OUTSIDE = 2;
    private static final VarHandle BOUNCE_CLAIM;

    static {
        try {
            BOUNCE_CLAIM = MethodHandles.lookup().findVarHandle(Ranged.class, "bounceClaim", byte.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Fields are few and small on purpose: a NOP, poll or fsync is 56 bytes with compressed oops
    // (what a byte range needs is in Ranged). Every operation is one allocation per call.
    final AbstractIoSource source;
    /** {@link Kind#ordinal()}. */
    private final byte kind;
    /** Whether the descriptor hold is the loop's shared one (see {@link AbstractIoSource}). */
    private final boolean loopHold;

    // Loop-confined (source executor's loop thread).
    byte state = NEW;
    private int token;
    IoOperation prevInFlight, nextInFlight;
    /**
     * One field, two uses in turn. Until the operation completes: the executor on whose loop the future
     * is to complete, if that is not the source's (null: the source's; see {@link #deliveryExecutor()}).
     * From completion to delivery: what {@link #deliver} completes the future with, a value or a
     * Throwable to fail it with. Sharing the field keeps an operation one reference smaller.
     */
    private Object outcome;

    IoOperation(AbstractIoSource source, Kind kind, Task<?> owner, RawExecutor<?> completionExecutor, boolean loopHold) {
        super(owner);
        this.source = source;
        this.kind = (byte) kind.ordinal();
        this.loopHold = loopHold;
        this.outcome = completionExecutor == source.executor() ? null : completionExecutor;
    }

    /**
     * A read, write or fallocate: an operation on a byte range, with the memory of a read or write.
     */
    static final class Ranged extends IoOperation {
        private final long offset;
        private final long length;
        private final int fallocateMode;
        private final BackingMemory memory;
        /**
         * The regions of {@link #memory} a read or write uses: one {@link MemRegion}, or a copy of the
         * caller's {@code MemRegion[]} when there are several; null for fallocate. Addresses are
         * computed when a reactor asks, so an operation allocates no segment of its own.
         */
        private final Object regions;
        /** The caller's array or ByteBuffer a bounce buffer is copied to or from; null without bounce. */
        private final Object bounceTarget;
        /**
         * Who may still act on the caller's {@link #bounceTarget}: {@link #UNCLAIMED}, then either the
         * source loop (copying a read's bytes into it, or moving a written ByteBuffer's position) or a
         * thread finishing the future from outside, whichever sets it first; see {@link #claimForLoop()}.
         */
        @SuppressWarnings("unused") // through BOUNCE_CLAIM
        private volatile byte bounceClaim;

        Ranged(AbstractIoSource source, Kind kind, long offset, long length, int fallocateMode,
               BackingMemory memory, Object regions, Object bounceTarget,
               Task<?> owner, RawExecutor<?> completionExecutor, boolean loopHold) {
            super(source, kind, owner, completionExecutor, loopHold);
            this.offset = offset;
            this.length = length;
            this.fallocateMode = fallocateMode;
            this.memory = memory;
            this.regions = regions;
            this.bounceTarget = bounceTarget;
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public long length() {
            return length;
        }

        @Override
        public int fallocateMode() {
            return fallocateMode;
        }

        @Override
        public int bufferCount() {
            return regions == null ? 0 : regions instanceof MemRegion ? 1 : ((MemRegion[]) regions).length;
        }

        @Override
        public long bufferAddress(int i) {
            return memory.segment().address() + region(i).offset();
        }

        @Override
        public long bufferLength(int i) {
            return region(i).length();
        }

        @Override
        public MemorySegment buffer(int i) {
            MemRegion region = region(i);
            return memory.segment().asSlice(region.offset(), region.length());
        }

        private MemRegion region(int i) {
            if (regions instanceof MemRegion one) {
                java.util.Objects.checkIndex(i, 1);
                return one;
            }
            if (regions == null) {
                throw noRegions();
            }
            return ((MemRegion[]) regions)[i];
        }

        @Override
        Object outcome(long result) {
            Kind kind = kind();
            if (kind == Kind.FALLOCATE) {
                return null;
            }
            int count = (int) Math.min(result, length);
            if (kind == Kind.READ && bounceTarget != null && count > 0) {
                if (!claimForLoop()) {
                    return FINISHED_OUTSIDE; // the thread that claimed it finishes the future
                }
                copyBack(count);
            }
            return count;
        }

        /**
         * Loop thread, once the kernel is done with an operation that has a {@link #bounceTarget}:
         * claims the caller's array or ByteBuffer, to copy a read's bytes into it or move a written
         * buffer's position. It wins or loses against {@link #claimForOutside()}: after it wins,
         * finishing the future from outside fails, as it would on a future already complete, so the
         * caller never has its array written after it was told the operation ended; after it loses,
         * the outside thread finishes the future and delivery leaves it alone
         * ({@link #FINISHED_OUTSIDE}).
         */
        boolean claimForLoop() {
            return BOUNCE_CLAIM.compareAndSet(this, UNCLAIMED, BY_LOOP);
        }

        @Override
        boolean claimForOutside() {
            // wins when unclaimed, and stays won for later outside calls; loses only to the loop
            return bounceTarget == null || (byte) BOUNCE_CLAIM.compareAndExchange(this, UNCLAIMED, BY_OUTSIDE) != BY_LOOP;
        }

        @Override
        void releaseMemory() {
            if (memory != null) {
                memory.releaseForOperation();
            }
        }

        @Override
        Object beforeDelivery(Object result) {
            if (kind() == Kind.WRITE && bounceTarget instanceof ByteBuffer target && result instanceof Integer n) {
                if (!claimForLoop()) {
                    return FINISHED_OUTSIDE;
                }
                target.position(target.position() + n);
            }
            return result;
        }

        private void copyBack(int count) {
            MemorySegment bounce = memory.segment(); // the whole bounce buffer, still held
            switch (bounceTarget) {
                case byte[] array -> MemorySegment.copy(bounce, ValueLayout.JAVA_BYTE, 0, array, 0, count);
                case ByteBuffer target -> {
                    int position = target.position();
                    MemorySegment.copy(bounce, 0, MemorySegment.ofBuffer(target), 0, count);
                    target.position(position + count);
                }
                default -> throw new AssertionError(bounceTarget);
            }
        }
    }

    public Kind kind() {
        return KINDS[kind];
    }

    /** The descriptor number, valid until completion (the operation holds the descriptor). */
    public int fd() {
        return source.descriptorNumber();
    }

    /** File offset, or {@link IoSource#CURRENT_POSITION}; for fallocate the range start; 0 for other kinds. */
    public long offset() {
        return 0;
    }

    /** Total bytes of a read or write; the range length of a fallocate; 0 otherwise. */
    public long length() {
        return 0;
    }

    /** For {@link Kind#FALLOCATE}: one of the {@code FALLOCATE_*} modes; 0 for other kinds. */
    public int fallocateMode() {
        return 0;
    }

    /** Number of memory regions of a read or write (1 or more); 0 for other kinds. */
    public int bufferCount() {
        return 0;
    }

    /** The native address of region {@code i} of a read or write, held until completion. */
    public long bufferAddress(int i) {
        throw noRegions();
    }

    /** The length in bytes of region {@code i} of a read or write. */
    public long bufferLength(int i) {
        throw noRegions();
    }

    /**
     * Region {@code i} of a read or write as a segment (a new slice on every call; reactors that only
     * need the address and length use {@link #bufferAddress} and {@link #bufferLength}, which allocate
     * nothing).
     */
    public MemorySegment buffer(int i) {
        throw noRegions();
    }

    final IndexOutOfBoundsException noRegions() {
        return new IndexOutOfBoundsException(kind().call() + " has no memory regions");
    }

    /** The value the future completes with for a non-negative kernel result (reads and writes: a count). */
    Object outcome(long result) {
        return null;
    }

    /** Releases the memory hold, if the operation has memory. */
    void releaseMemory() {
    }

    /**
     * Runs right before the future completes, on the completion loop; returns what to complete it
     * with ({@code result}, or {@link #FINISHED_OUTSIDE}). May throw: the future then fails with it.
     */
    Object beforeDelivery(Object result) {
        return result;
    }

    /** Any thread, before finishing the future from outside: false if {@code Ranged.claimForLoop()} won. */
    boolean claimForOutside() {
        return true;
    }

    /** The reactor's value for this operation (for example a slot index or a queue state); 0 at first. */
    public int token() {
        return token;
    }

    /** Sets the reactor's value for this operation. Loop thread only. */
    public void token(int token) {
        this.token = token;
    }

    /**
     * Fails the future with {@link java.util.concurrent.CancellationException} at once and, on the loop
     * thread of the source's executor, asks the reactor to cancel the operation in the kernel; the
     * operation keeps its memory and descriptor until the kernel hands it back. Any thread.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        // claimForOutside fails once the kernel finished and the loop is handing the caller its bytes
        return claimForOutside() && cancelInKernelIf(super.cancel(mayInterruptIfRunning));
    }

    /** After the future was finished from outside ({@code finished}), asks the loop to cancel the operation. */
    private boolean cancelInKernelIf(boolean finished) {
        if (finished) {
            source.executor().requestCancel(this);
        }
        return finished;
    }

    /**
     * Completes the future with {@code value} if it is not done, and then cancels the operation in the
     * kernel as {@link #cancel} does: whoever finishes the future from outside has given up on the
     * operation (this is how {@link #completeOnTimeout} ends it). The reactor's own completion is
     * {@link #complete(long)}. Any thread.
     */
    @Override
    public boolean complete(Object value) {
        return claimForOutside() && cancelInKernelIf(super.complete(value));
    }

    /**
     * Fails the future with {@code failure} if it is not done, and then cancels the operation in the
     * kernel as {@link #cancel} does (this is how {@link #orTimeout} ends it). Any thread.
     */
    @Override
    public boolean completeExceptionally(Throwable failure) {
        Objects.requireNonNull(failure, "failure");
        return claimForOutside() && cancelInKernelIf(super.completeExceptionally(failure));
    }

    /**
     * Runs {@code supplier} on {@code executor} and finishes the future with its value (or failure)
     * through {@link #complete(Object)} / {@link #completeExceptionally(Throwable)}, so the operation is
     * cancelled in the kernel as with those.
     */
    @Override
    public CompletableFuture<Object> completeAsync(Supplier<?> supplier, Executor executor) {
        Objects.requireNonNull(supplier, "supplier");
        Objects.requireNonNull(executor, "executor");
        executor.execute(() -> {
            if (!isDone()) {
                try {
                    complete(supplier.get());
                } catch (Throwable failure) {
                    completeExceptionally(failure);
                }
            }
        });
        return this;
    }

    /** Forces the result, as {@link CompletableFuture} does, and cancels the operation in the kernel. */
    @Override
    public void obtrudeValue(Object value) {
        claimForOutside(); // if the loop has already copied the bytes in, they were there before this
        super.obtrudeValue(value);
        source.executor().requestCancel(this);
    }

    /** Forces the failure, as {@link CompletableFuture} does, and cancels the operation in the kernel. */
    @Override
    public void obtrudeException(Throwable failure) {
        claimForOutside();
        super.obtrudeException(failure);
        source.executor().requestCancel(this);
    }

    /**
     * The reactor reports the operation's end: {@code result} is the kernel's result, a byte count or
     * poll mask when non-negative, {@code -errno} when negative. Reactors only, on the loop thread of
     * the source's executor; a second call is ignored with a log message. Releases the memory and
     * descriptor holds before returning; the future completes later on its loop.
     */
    public void complete(long result) {
        if (state == DONE) {
            RawExecutor.LOG.log(System.Logger.Level.WARNING, "ignoring a second completion ({0}) of {1}", result, this);
            return;
        }
        state = DONE;
        source.executor().unlinkInFlight(this);
        source.executor().releasePosition(this);
        RawExecutor<?> target = deliveryExecutor();
        try {
            outcome = result < 0 ? new ErrnoException(kind().call() + "(fd " + fd() + ")", (int) -result) : outcome(result);
        } catch (RuntimeException failure) { // e.g. the caller shrank its ByteBuffer while the read was in flight
            outcome = failure;
        }
        releaseHolds();
        target.deliver(this);
    }

    /** Finishes an operation that never reached the kernel. Loop thread. */
    void abandon(Throwable cause) {
        state = DONE;
        source.executor().releasePosition(this);
        RawExecutor<?> target = deliveryExecutor();
        outcome = cause;
        releaseHolds();
        target.deliver(this);
    }

    /** Before completion: the executor on whose loop the future completes (see {@link #outcome}). */
    private RawExecutor<?> deliveryExecutor() {
        return outcome instanceof RawExecutor<?> other ? other : source.executor();
    }

    /** Drops the memory's hold and the descriptor's; the descriptor's even if the memory's fails. */
    private void releaseHolds() {
        try {
            releaseMemory();
        } catch (RuntimeException failure) { // a BackingMemory of the caller's that breaks its contract
            RawExecutor.LOG.log(System.Logger.Level.ERROR, "releasing the memory of " + this + " failed", failure);
        } finally {
            source.releaseDescriptor(loopHold);
        }
    }

    /**
     * Runs on the loop of {@code executor}, the completion executor, which {@link RawExecutor#deliver}
     * queued it on: completes the future in the owner's task context.
     */
    void deliver(RawExecutor<?> executor) {
        Object result = outcome;
        outcome = null;
        try {
            result = beforeDelivery(result);
        } catch (RuntimeException failure) { // e.g. the caller shrank its ByteBuffer while the write was in flight
            result = failure;
        }
        if (result != FINISHED_OUTSIDE) {
            Task<?> previous = executor.enterTask(owner);
            try {
                if (result instanceof Throwable failure) {
                    super.completeExceptionally(failure);
                } else {
                    super.complete(result);
                }
            } finally {
                executor.exitTask(previous);
            }
        }
        leaveOwner();
    }

    @Override
    public String toString() {
        return "IoOperation[" + kind().call() + ", fd " + fd() + ", offset " + offset() + ", length " + length()
                + ", state " + state + (isDone() ? ", future done" : "") + "]";
    }
}
