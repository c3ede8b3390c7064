package dev.ringside.executor;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Asynchronous IO on one descriptor (file, pipe, socket, eventfd or timerfd) of one executor.
 *
 * <h2>Threads and completion</h2>
 * Every method may be called from any thread. Each returns a future that completes on a loop thread:
 * the loop of the executor whose task issued the call, or, when the caller is not a task of any
 * executor, the loop of this source's executor. The loop that reaps the completion must be running
 * for the future to complete.
 *
 * <h2>Errors</h2>
 * <ul>
 *   <li>Arguments that can never work (a negative length or offset other than
 *       {@link #CURRENT_POSITION}, a region outside its memory, freed memory, a closed source) throw
 *       {@link IllegalArgumentException} or {@link IllegalStateException} before anything is
 *       submitted.</li>
 *   <li>Work given to a closed executor throws {@link ExecutorClosedException}; if the executor
 *       closes before the operation reaches the kernel, the future fails with it.</li>
 *   <li>A failure the kernel reports completes the future exceptionally with an
 *       {@link ErrnoException} naming the call, the errno and its symbol.</li>
 * </ul>
 *
 * <h2>Cancellation and memory</h2>
 * {@code cancel} on a returned future fails it with {@link java.util.concurrent.CancellationException}
 * at once and asks the kernel to cancel the operation. The operation keeps its hold on the memory and
 * on the descriptor until the kernel hands it back, whatever happens to the future. Cancelling the
 * {@link Task} that issued an operation cancels the operation the same way, and so does finishing the
 * future from outside: {@code complete}, {@code completeExceptionally}, {@code completeAsync},
 * {@code orTimeout}, {@code completeOnTimeout} and {@code obtrude*} cancel the operation in the kernel,
 * so an abandoned read stops taking bytes once the cancel reaches the kernel, and an abandoned write is
 * not left to land later. One exception keeps a caller's array safe: once the kernel has finished a
 * read into a {@code byte[]} or heap {@code ByteBuffer} and the loop has copied the bytes into it (or
 * moved a written {@code ByteBuffer}'s position), the operation counts as complete, so {@code cancel}
 * and finishing it from outside fail and the future completes with the count; nothing writes into the
 * caller's array or buffer after it was told the operation ended.
 *
 * <h2>Results</h2>
 * Reads and writes complete with the byte count, which may be short; a read at end of file completes
 * with 0. A read never reports more bytes than it was given room for.
 */
public interface IoSource extends AutoCloseable {

    /** The offset meaning "at the descriptor's current file position" (and advance it). */
    long CURRENT_POSITION = -1;

    /**
     * Reads into {@code regions} of {@code mem}, in order (scatter), at {@code offset}: from 1 to
     * {@code IOV_MAX} (1024) regions, as the kernel's vectored calls take, else
     * {@link IllegalArgumentException}.
     */
    CompletableFuture<Integer> read(long offset, BackingMemory mem, MemRegion... regions);

    /** Writes {@code regions} of {@code mem}, in order (gather), at {@code offset}: from 1 to 1024 regions. */
    CompletableFuture<Integer> write(long offset, BackingMemory mem, MemRegion... regions);

    /**
     * Reads into {@code buffer} (through native bounce memory; the bytes are copied into the array on
     * the loop thread before the future completes).
     */
    CompletableFuture<Integer> read(long offset, byte[] buffer);

    /** Writes all of {@code buffer} (copied into native bounce memory when called). */
    CompletableFuture<Integer> write(long offset, byte[] buffer);

    /**
     * Reads into the remaining space of {@code buffer}, heap or direct, through bounce memory; on
     * completion the bytes are copied in and its position advanced by the count, on the loop thread.
     */
    CompletableFuture<Integer> read(long offset, ByteBuffer buffer);

    /**
     * Writes the remaining bytes of {@code buffer} (copied when called); on completion its position is
     * advanced by the count, on the loop thread.
     */
    CompletableFuture<Integer> write(long offset, ByteBuffer buffer);

    /**
     * A round trip through the reactor that does nothing (io_uring: {@code IORING_OP_NOP}): it measures
     * the cost of an operation, and proves the source's loop is reaping.
     */
    CompletableFuture<Void> nop();

    /** Completes when the descriptor is readable (or has an error or hang-up to report). */
    CompletableFuture<Void> waitReadable();

    /** Completes when the descriptor is writable (or has an error or hang-up to report). */
    CompletableFuture<Void> waitWritable();

    /** Flushes data and metadata ({@code fsync(2)}). */
    CompletableFuture<Void> fsync();

    /** Flushes data and the metadata needed to read it back ({@code fdatasync(2)}), not an fsync. */
    CompletableFuture<Void> fdatasync();

    /** Deallocates {@code [offset, offset + length)}, keeping the file size (punch hole). */
    CompletableFuture<Void> punchHole(long offset, long length);

    /** Zeroes {@code [offset, offset + length)}, keeping the file size (zero range). */
    CompletableFuture<Void> writeZeroes(long offset, long length);

    /** Allocates {@code [offset, offset + length)}, growing the file if needed (plain fallocate). */
    CompletableFuture<Void> fallocate(long offset, long length);

    /** The executor this source belongs to. */
    RawExecutor<?> executor();

    /** Whether {@link #close()} has been called. */
    boolean isClosed();

    /**
     * Closes the source: later calls fail with {@link IllegalStateException}. Operations in flight are
     * not cancelled; the descriptor is closed once the last of them has completed. Idempotent, any
     * thread.
     */
    @Override
    void close();
}
