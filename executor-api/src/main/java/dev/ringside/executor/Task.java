package dev.ringside.executor;

import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

/**
 * A unit of work on a {@link RawExecutor}'s loop: a body returning a {@link CompletionStage}, and the
 * future of that stage's result.
 *
 * <p>The body runs once, on the loop thread. While it runs, and while the executor completes the
 * futures of IO operations, sleeps and child tasks it issued, the task is the loop's <em>current
 * task</em>: whatever those callbacks issue belongs to it as well. The task completes with its
 * stage's result.
 *
 * <h2>Cancellation is structured</h2>
 * {@link #cancel(boolean)} (any thread) fails the task with {@link CancellationException} at once;
 * then, on the loop thread, it cancels the stage its body returned, every IO operation and sleep it
 * has in flight, and every task it spawned that is not finished, like a Kotlin {@code Job}. IO
 * operations keep their memory until the kernel hands it back (see {@link IoSource}).
 *
 * <p>When a task completes on the loop, the code that depends on it runs in its parent's context (or
 * none), never in its own: work issued by a dependent does not belong to a task that has finished.
 *
 * <p>Threads: {@code children}, {@code stage} and the live-task links are confined to the executor's
 * loop thread. Completion (the {@link CompletableFuture} state) is thread-safe and happens once, so
 * the executor's bookkeeping after it runs once however the task ends.
 *
 * <p>Children are kept in an array that only grows at its end: adding is O(1); removing pops the last
 * element when it is the one finishing (the common case) and otherwise leaves the finished child in
 * place, to be dropped when the array is next full. Cancelling a finished child does nothing, so a
 * stale entry is harmless.
 */
public class Task<T> extends CompletableFuture<T> {

    final RawExecutor<?> executor;
    private Callable<? extends CompletionStage<T>> body;
    /** The task current when this one was spawned, or null. */
    private final Task<?> parent;

    // Loop-confined.
    private CompletionStage<T> stage;
    private Future<?>[] children;
    private int childCount;
    Task<?> prevLive, nextLive;
    boolean linked;

    Task(RawExecutor<?> executor, Callable<? extends CompletionStage<T>> body, Task<?> parent) {
        this.executor = executor;
        this.body = body;
        this.parent = parent;
    }

    /** The executor this task runs on. */
    public RawExecutor<?> executor() {
        return executor;
    }

    /** Runs the body. Loop thread, once. */
    final void runBody() {
        Callable<? extends CompletionStage<T>> work = body;
        body = null;
        if (isDone() || work == null) {
            return;
        }
        executor.linkLive(this);
        Task<?> previous = executor.enterTask(this);
        try {
            CompletionStage<T> result = work.call();
            if (result == null) {
                completeExceptionally(new NullPointerException("the task body returned null instead of a CompletionStage"));
            } else if (result instanceof CompletableFuture<T> done && done.isDone()) {
                settle(done);
            } else {
                stage = result;
                result.whenComplete(this::settleOnLoop);
            }
        } catch (Throwable failure) {
            completeExceptionally(failure);
        } finally {
            executor.exitTask(previous);
        }
    }

    private void settle(CompletableFuture<T> done) {
        switch (done.state()) {
            case SUCCESS -> complete(done.resultNow());
            case FAILED -> completeExceptionally(done.exceptionNow());
            case CANCELLED -> cancel(false);
            case RUNNING -> throw new AssertionError();
        }
    }

    /** A task completes on its loop thread even when another thread completes its stage. */
    private void settleOnLoop(T value, Throwable failure) {
        if (executor.inLoop()) {
            settle(value, failure);
        } else {
            executor.onLoop(() -> settle(value, failure));
        }
    }

    private void settle(T value, Throwable failure) {
        if (failure == null) {
            complete(value);
        } else {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof CancellationException) {
                cancel(false);
            } else {
                completeExceptionally(cause);
            }
        }
    }

    @Override
    public boolean complete(T value) {
        Task<?> previous = enterParent();
        try {
            boolean completed = super.complete(value);
            if (completed) {
                finished(false);
            }
            return completed;
        } finally {
            exitParent(previous);
        }
    }

    @Override
    public boolean completeExceptionally(Throwable failure) {
        Task<?> previous = enterParent();
        try {
            boolean completed = super.completeExceptionally(failure);
            if (completed) {
                finished(false);
            }
            return completed;
        } finally {
            exitParent(previous);
        }
    }

    /** On the loop thread, makes the parent current while dependents run; returns what to restore. */
    private Task<?> enterParent() {
        return executor.inLoop() ? executor.enterTask(parent) : NOT_ON_LOOP;
    }

    private void exitParent(Task<?> previous) {
        if (previous != NOT_ON_LOOP) {
            executor.exitTask(previous);
        }
    }

    private static final Task<?> NOT_ON_LOOP = new Task<>(null, null, null);

    /**
     * Cancels the task and, on the loop thread, everything it has in flight. Returns whether this call
     * cancelled it. {@code mayInterruptIfRunning} is ignored: the loop is never interrupted.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        Task<?> previous = enterParent();
        try {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                finished(true);
            }
            return cancelled;
        } finally {
            exitParent(previous);
        }
    }

    private void finished(boolean cancelled) {
        if (executor.inLoop()) {
            afterFinish(cancelled);
        } else {
            executor.onLoop(() -> afterFinish(cancelled));
        }
    }

    /** Loop thread: unlink, and on cancellation cancel what the task has in flight. */
    private void afterFinish(boolean cancelled) {
        executor.unlinkLive(this);
        Future<?>[] inFlight = children;
        int count = childCount;
        children = null;
        childCount = 0;
        if (cancelled) {
            CompletionStage<T> pending = stage;
            stage = null;
            if (pending != null) {
                try {
                    pending.toCompletableFuture().cancel(false);
                } catch (UnsupportedOperationException ignored) {
                    // a stage that cannot be viewed as a future cannot be cancelled
                }
            }
            for (int i = 0; i < count; i++) {
                inFlight[i].cancel(false);
            }
        }
        if (parent != null) {
            parent.removeChild(this);
        }
    }

    /**
     * Loop thread: {@code child} was issued by this task. A cancelled task cancels it at once; a task
     * that completed normally has nothing left to cancel, so the child is not tracked.
     */
    final void addChild(Future<?> child) {
        if (isDone()) {
            if (isCancelled()) {
                child.cancel(false);
            }
            return;
        }
        Future<?>[] array = children;
        if (array == null) {
            array = children = new Future<?>[4];
        } else if (childCount == array.length) {
            int live = 0;
            for (int i = 0; i < childCount; i++) {
                if (!array[i].isDone()) {
                    array[live++] = array[i];
                }
            }
            Arrays.fill(array, live, childCount, null);
            childCount = live;
            if (live > array.length / 2) {
                array = children = Arrays.copyOf(array, array.length * 2);
            }
        }
        array[childCount++] = child;
    }

    /** Loop thread: {@code child} finished. */
    final void removeChild(Future<?> child) {
        if (childCount > 0 && children[childCount - 1] == child) {
            children[--childCount] = null;
        }
    }

    final Task<?> parent() {
        return parent;
    }
}
