package dev.ringside.executor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
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
 * <p>Threads: {@code children}, {@code stage} and the live-task links are confined to the executor's
 * loop thread. Completion (the {@link CompletableFuture} state) is thread-safe; {@code finished} is
 * set once by compare-and-set, so the executor's bookkeeping runs once however the task ends.
 */
public class Task<T> extends CompletableFuture<T> {

    final RawExecutor<?> executor;
    private Callable<? extends CompletionStage<T>> body;
    /** The task current when this one was spawned, or null. */
    private final Task<?> parent;

    // Loop-confined.
    private CompletionStage<T> stage;
    private Set<Future<?>> children;
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
        boolean completed = super.complete(value);
        if (completed) {
            finished(false);
        }
        return completed;
    }

    @Override
    public boolean completeExceptionally(Throwable failure) {
        boolean completed = super.completeExceptionally(failure);
        if (completed) {
            finished(false);
        }
        return completed;
    }

    /**
     * Cancels the task and, on the loop thread, everything it has in flight. Returns whether this call
     * cancelled it. {@code mayInterruptIfRunning} is ignored: the loop is never interrupted.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            finished(true);
        }
        return cancelled;
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
        Set<Future<?>> inFlight = children;
        children = null;
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
            if (inFlight != null) {
                for (Future<?> child : inFlight.toArray(Future<?>[]::new)) {
                    child.cancel(false);
                }
            }
        }
        if (parent != null) {
            parent.removeChild(this);
        }
    }

    /** Loop thread: {@code child} was issued by this task. */
    final void addChild(Future<?> child) {
        if (isDone()) {
            child.cancel(false);
            return;
        }
        Set<Future<?>> set = children;
        if (set == null) {
            set = children = Collections.newSetFromMap(new IdentityHashMap<>());
        }
        set.add(child);
    }

    /** Loop thread: {@code child} finished. */
    final void removeChild(Future<?> child) {
        Set<Future<?>> set = children;
        if (set != null) {
            set.remove(child);
        }
    }

    final Task<?> parent() {
        return parent;
    }
}
