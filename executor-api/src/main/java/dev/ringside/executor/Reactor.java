package dev.ringside.executor;

import java.io.IOException;
import java.util.concurrent.CompletionStage;

/**
 * The part of an executor that waits: it turns IO submissions into completions and blocks the loop
 * thread until there is something to do. {@link RawExecutor} owns exactly one reactor and drives it;
 * users do not call these methods.
 *
 * <h2>Threads</h2>
 * Every method except {@link #wake()} and {@link #nanoTime()} is called only by the executor's loop
 * thread (the thread inside {@link RawExecutor#run()} or {@link RawExecutor#runUntil}), or, once no
 * loop runs any more, by the thread performing {@link RawExecutor#close()}; the executor guarantees
 * that these calls never overlap. {@link #wake()} and {@link #nanoTime()} may be called from any
 * thread at any time, including concurrently with the others and after {@link #close()}.
 *
 * <h2>Operations</h2>
 * A reactor creates the {@link IoSource}s for its descriptors ({@link #newSource}), normally as
 * subclasses of {@link AbstractIoSource}, which hand the reactor {@link IoOperation}s on the loop
 * thread. The reactor completes each started operation exactly once, with
 * {@link IoOperation#complete(long)}, on the loop thread: normally from inside {@link #waitForWork},
 * or at once from {@code start} or {@code cancel} when the operation never reached the kernel.
 * Completing never runs user code, so a reactor needs no re-entrancy guard.
 */
public interface Reactor extends AutoCloseable {

    /** A {@link #waitForWork} deadline meaning: block until an operation completes or {@link #wake()}. */
    long NO_DEADLINE = Long.MAX_VALUE;

    /**
     * A loop starts on the current thread. A reactor that needs a single issuer thread binds to it
     * here. Called before the first {@link #waitForWork} of every {@code run}/{@code runUntil}, and
     * before {@link RawExecutor#close()} drains on a thread that runs no loop.
     *
     * @throws IllegalStateException if the reactor is bound to another thread and cannot be driven from
     *         this one; the message names both. The executor then lets go of the loop and the call that
     *         wanted to run it ({@code run}, {@code runUntil} or {@code close}) throws it.
     */
    void onThreadStart();

    /**
     * The loop leaves the current thread, which called {@link #onThreadStart()}: after the last
     * {@link #waitForWork} of a {@code run}/{@code runUntil} however it ends, and after a drain (then
     * after {@link #close()}). A reactor releases here what it bound to the thread. Loop thread; the
     * default does nothing.
     */
    default void onThreadStop() {
    }

    /**
     * Blocks until an operation completes, {@link #wake()} is called, or {@link #nanoTime()} reaches
     * {@code deadlineNanos}; a deadline at or before now (0 included) means do not block, only reap
     * what is ready, and {@link #NO_DEADLINE} means no deadline. Operations submitted since the last
     * call are handed to the kernel first.
     *
     * <p>Right after the blocking wait returns, and before completing any operation, the reactor runs
     * {@code setProcessing} exactly once; it tells the executor that wake-ups need not reach the
     * reactor any more. The reactor then completes every operation that has finished.
     *
     * @throws IOException if the reactor itself failed (not an operation); the loop stops with it
     */
    void waitForWork(long deadlineNanos, Runnable setProcessing) throws IOException;

    /**
     * Any thread: makes the current {@link #waitForWork} return, or if none is in progress the next
     * one. Several calls before that return may be coalesced into one.
     */
    void wake();

    /**
     * The executor is closing: cancel every outstanding operation. The returned stage completes
     * (on the loop thread, from inside {@link #waitForWork}) once the kernel has handed back every
     * operation, so that no memory it may write is still in use. The executor keeps calling
     * {@link #waitForWork} until then or until its drain deadline passes.
     */
    CompletionStage<Void> onExecutorDrop();

    /** The reactor's clock, in nanoseconds: positive and monotonic. Any thread. */
    long nanoTime();

    /**
     * Wraps a descriptor as an IO source of {@code executor}; the source takes ownership of
     * {@code fd}. Called by {@link RawExecutor#register(Fd)} on any thread.
     *
     * @throws IOException if the descriptor cannot be used with this reactor
     */
    IoSource newSource(RawExecutor<?> executor, Fd fd) throws IOException;

    /**
     * Releases the reactor's own resources (rings, epoll descriptor, wake-up descriptor and their
     * memory). Called once, after the drain, or after the drain deadline passed: in that case memory
     * the kernel may still write must be leaked, never freed.
     */
    @Override
    void close();
}
