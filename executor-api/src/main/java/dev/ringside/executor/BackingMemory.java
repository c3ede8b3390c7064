package dev.ringside.executor;

import java.lang.foreign.MemorySegment;

/**
 * Native memory that IO operations read and write, with a reference count that keeps it alive while
 * the kernel may still use it.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #segment()} is native (not heap) memory whose address stays fixed while any reference
 *       is held.</li>
 *   <li>An operation calls {@link #retainForOperation()} when it is created and
 *       {@link #releaseForOperation()} when the kernel has handed the memory back (its completion),
 *       whatever the caller did meanwhile: cancelled the future, dropped it, released its own
 *       reference or closed the executor. An implementation that counts these apart from its
 *       owners' references can refuse an owner's release that would otherwise take an operation's
 *       ({@link IoBuffer} does).</li>
 *   <li>The memory is freed when the last reference is released, never before. If an executor's
 *       drain deadline passes with the kernel still holding it, the reference is never released and
 *       the memory leaks on purpose.</li>
 *   <li>The memory may be written by the kernel while the owner reads it: like a device buffer, it
 *       has no exclusivity. Callers that read it concurrently with a read operation see torn data.</li>
 * </ul>
 * All methods are thread-safe.
 */
public interface BackingMemory {

    /** The memory; {@link IllegalStateException} once it has been freed. */
    MemorySegment segment();

    /** Adds a reference; {@link IllegalStateException} if the memory has already been freed. */
    void retain();

    /** Drops a reference; the last one frees the memory. {@link IllegalStateException} if none is left. */
    void release();

    /**
     * An operation's reference, taken when it is created, before anything reaches the kernel; by
     * default {@link #retain()}. {@link IllegalStateException} if the memory has already been freed.
     */
    default void retainForOperation() {
        retain();
    }

    /**
     * Drops the reference {@link #retainForOperation()} took, once the kernel has handed the memory
     * back; by default {@link #release()}.
     */
    default void releaseForOperation() {
        release();
    }

    /** The current number of references (the owner's and every holding operation's). */
    int refCount();
}
