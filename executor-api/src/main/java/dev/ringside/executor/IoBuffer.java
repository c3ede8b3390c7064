package dev.ringside.executor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Reference-counted native memory for IO: the {@link BackingMemory} users allocate.
 *
 * <p>{@link #allocate} returns a buffer with one reference, the caller's. Every operation using the
 * buffer holds one more from its submission to its completion ({@link #retainForOperation()}), so
 * {@link #refCount()} shows the kernel's hold. {@link #close()} drops the caller's first reference,
 * once however often it is called; {@link #release()} drops one taken by {@link #retain()} (or the
 * first). The memory is freed by whoever drops the last reference. After that, {@link #segment()},
 * {@link #retain()} and any access through a segment obtained earlier fail with
 * {@link IllegalStateException}: the memory lives in its own shared {@link Arena}, which closing
 * invalidates.
 *
 * <p>The callers' references and the operations' are counted apart, so releasing more often than
 * allocating and retaining fails, with the memory untouched, instead of taking a reference an operation
 * holds: memory the kernel may still write is never freed, whatever the caller does.
 *
 * <p>Thread-safety: all methods may be called from any thread. Both counts live in one {@code long}
 * ({@link #counts}) changed only by compare-and-set; the transition to no reference at all happens
 * once and is the only one that closes the arena.
 */
public final class IoBuffer implements BackingMemory, AutoCloseable {

    private static final VarHandle COUNTS, CLOSED;
    /** One operation's reference in {@link #counts}. */
    private static final long OPERATION = 1L << 32;
    private static final long CALLER_MASK = OPERATION - 1;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            COUNTS = lookup.findVarHandle(IoBuffer.class, "counts", long.class);
            CLOSED = lookup.findVarHandle(IoBuffer.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Arena arena;
    private final MemorySegment segment;
    /**
     * References held: the callers' in the low 32 bits, the operations' in flight in the high 32; 0
     * once freed. Compare-and-set only.
     */
    @SuppressWarnings("unused") // accessed through COUNTS
    private volatile long counts = 1;
    /** Whether {@link #close()} dropped the caller's first reference. Compare-and-set only. */
    @SuppressWarnings("unused") // accessed through CLOSED
    private volatile boolean closed;

    private IoBuffer(long size, long alignment) {
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(size, alignment);
    }

    /** Allocates {@code size} zeroed bytes aligned to 4096 (suitable for {@code O_DIRECT}). */
    public static IoBuffer allocate(long size) {
        return allocate(size, 4096);
    }

    /** Allocates {@code size} zeroed bytes with the given power-of-two alignment. */
    public static IoBuffer allocate(long size, long alignment) {
        if (size < 0) {
            throw new IllegalArgumentException("IoBuffer.allocate: negative size " + size);
        }
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("IoBuffer.allocate: alignment " + alignment + " is not a power of two");
        }
        return new IoBuffer(size, alignment);
    }

    /** A buffer holding a copy of {@code bytes}. */
    public static IoBuffer copyOf(byte[] bytes) {
        IoBuffer buffer = allocate(bytes.length, 8);
        MemorySegment.copy(bytes, 0, buffer.segment, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
        return buffer;
    }

    @Override
    public MemorySegment segment() {
        if (isFreed()) {
            throw freed("segment");
        }
        return segment;
    }

    /** The size in bytes. */
    public long size() {
        return segment.byteSize();
    }

    /** A copy of the bytes in {@code [offset, offset + length)}. */
    public byte[] toByteArray(long offset, int length) {
        return segment().asSlice(offset, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /** A copy of all bytes. */
    public byte[] toByteArray() {
        return segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    @Override
    public void retain() {
        add(1, "retain");
    }

    /** An operation's reference, counted apart from the callers'. */
    @Override
    public void retainForOperation() {
        add(OPERATION, "retainForOperation");
    }

    private void add(long delta, String call) {
        long value;
        do {
            value = (long) COUNTS.getVolatile(this);
            if (value == 0) {
                throw freed(call);
            }
        } while (!COUNTS.compareAndSet(this, value, value + delta));
    }

    /**
     * Drops one of the callers' references; the memory is freed now if it was the last reference, or
     * when the last operation holding it completes. Fails, changing nothing, if no caller's reference
     * is left (more releases than {@code allocate} plus {@link #retain()}), even while operations hold
     * the buffer.
     */
    @Override
    public void release() {
        long value;
        do {
            value = (long) COUNTS.getVolatile(this);
            if (value == 0) {
                throw freed("release");
            }
            if ((value & CALLER_MASK) == 0) {
                throw new IllegalStateException("IoBuffer.release: released more often than allocated and retained; "
                        + (value >>> 32) + " operation(s) still hold the buffer, which stays allocated until they complete");
            }
        } while (!COUNTS.compareAndSet(this, value, value - 1));
        if (value == 1) {
            arena.close();
        }
    }

    /** Drops the reference {@link #retainForOperation()} took; the last reference frees the memory. */
    @Override
    public void releaseForOperation() {
        long value;
        do {
            value = (long) COUNTS.getVolatile(this);
            if (value >>> 32 == 0) {
                throw new IllegalStateException("IoBuffer.releaseForOperation: no operation holds the buffer");
            }
        } while (!COUNTS.compareAndSet(this, value, value - OPERATION));
        if (value == OPERATION) {
            arena.close();
        }
    }

    @Override
    public int refCount() {
        long value = (long) COUNTS.getVolatile(this);
        return (int) (value & CALLER_MASK) + (int) (value >>> 32);
    }

    /** Whether the memory has been freed. */
    public boolean isFreed() {
        return (long) COUNTS.getVolatile(this) == 0;
    }

    /**
     * Drops the caller's first reference (the one {@link #allocate} returned with), at most once: a
     * second {@code close()} does nothing. The memory is freed now, or when the last reference
     * ({@link #retain()}ed ones, operations in flight) is dropped.
     */
    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, false, true)) {
            release();
        }
    }

    private IllegalStateException freed(String call) {
        return new IllegalStateException("IoBuffer." + call + ": buffer of " + segment.byteSize()
                + " bytes was already freed (use after release)");
    }

    @Override
    public String toString() {
        return "IoBuffer[size=" + segment.byteSize() + ", refCount=" + refCount() + "]";
    }
}
