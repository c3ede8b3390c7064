package dev.ringside.executor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Reference-counted native memory for IO: the {@link BackingMemory} users allocate.
 *
 * <p>{@link #allocate} returns a buffer with one reference, the caller's. Every operation using the
 * buffer holds one more from its submission to its completion, so {@link #refCount()} shows the
 * kernel's hold. {@link #close()} (or {@link #release()}) drops the caller's reference; the memory is
 * freed by whoever drops the last one. After that, {@link #segment()}, {@link #retain()} and any access
 * through a segment obtained earlier fail with {@link IllegalStateException}: the memory lives in its
 * own shared {@link Arena}, which closing invalidates.
 *
 * <p>Thread-safety: all methods may be called from any thread. {@code refCount} is changed only by
 * compare-and-set; the 1 to 0 transition happens once and is the only one that closes the arena.
 */
public final class IoBuffer implements BackingMemory, AutoCloseable {

    private static final VarHandle REF_COUNT;

    static {
        try {
            REF_COUNT = MethodHandles.lookup().findVarHandle(IoBuffer.class, "refCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Arena arena;
    private final MemorySegment segment;
    /** References held: the owner's plus one per operation in flight; 0 once freed. CAS only. */
    @SuppressWarnings("unused") // accessed through REF_COUNT
    private volatile int refCount = 1;

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
        if (refCount() == 0) {
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
        int count;
        do {
            count = refCount();
            if (count == 0) {
                throw freed("retain");
            }
        } while (!REF_COUNT.compareAndSet(this, count, count + 1));
    }

    @Override
    public void release() {
        int count;
        do {
            count = refCount();
            if (count == 0) {
                throw freed("release");
            }
        } while (!REF_COUNT.compareAndSet(this, count, count - 1));
        if (count == 1) {
            arena.close();
        }
    }

    @Override
    public int refCount() {
        return (int) REF_COUNT.getVolatile(this);
    }

    /** Whether the memory has been freed. */
    public boolean isFreed() {
        return refCount() == 0;
    }

    /**
     * Drops the caller's reference; the memory is freed now, or when the last operation holding it
     * completes. Calling it more often than {@code allocate} plus {@link #retain()} fails.
     */
    @Override
    public void close() {
        release();
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
