package dev.ringside.executor;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

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
 * <p>Children (child tasks, sleeps, IO operations) are the nodes of an intrusive doubly linked list
 * (see {@link OwnedFuture}): adding and removing are O(1) in any order and allocate nothing.
 */
public class Task<T> extends OwnedFuture<T> {

    final RawExecutor<?> executor;
    private Callable<? extends CompletionStage<T>> body;

    // Loop-confined.
    private CompletionStage<T> stage;
    /** Head of the list of children in flight; see {@link OwnedFuture}. */
    private OwnedFuture<?> firstChild;
    Task<?> prevLive, nextLive;
    boolean linked;

    /** {@code parent}: the task current when this one was spawned (its owner), or null. */
    Task(RawExecutor<?> executor, Callable<? extends CompletionStage<T>> body, Task<?> parent) {
        super(parent);
        this.executor = executor;
        this.body = body;
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
            } else if (isCancelled()) { // cancelled while the body ran: its stage goes with it
                cancelStage(result);
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
            case FAILED -> settle(null, done.exceptionNow()); // a CancellationException cancels, as later
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
        return executor.inLoop() ? executor.enterTask(owner) : NOT_ON_LOOP;
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

    private static void cancelStage(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().cancel(false);
        } catch (UnsupportedOperationException ignored) {
            // a stage that cannot be viewed as a future cannot be cancelled
        }
    }

    /** Loop thread: unlink, and on cancellation cancel what the task has in flight. */
    private void afterFinish(boolean cancelled) {
        executor.unlinkLive(this);
        OwnedFuture<?> child = firstChild;
        firstChild = null; // the list is detached: children removing themselves meanwhile find no list
        if (cancelled) {
            CompletionStage<T> pending = stage;
            stage = null;
            if (pending != null) {
                cancelStage(pending);
            }
            while (child != null) {
                OwnedFuture<?> next = child.nextSibling;
                child.prevSibling = child.nextSibling = null;
                child.cancel(false);
                child = next;
            }
        } else {
            while (child != null) { // unlink, so the children's own removals stay no-ops
                OwnedFuture<?> next = child.nextSibling;
                child.prevSibling = child.nextSibling = null;
                child = next;
            }
        }
        leaveOwner();
    }

    /**
     * Loop thread: {@code child} was issued by this task. A cancelled task cancels it at once; a task
     * that completed normally has nothing left to cancel, so the child is not tracked.
     */
    final void addChild(OwnedFuture<?> child) {
        if (isDone()) {
            if (isCancelled()) {
                child.cancel(false);
            }
            return;
        }
        OwnedFuture<?> first = firstChild;
        child.nextSibling = first;
        if (first != null) {
            first.prevSibling = child;
        }
        firstChild = child;
    }

    /** Loop thread: {@code child} finished; does nothing if it is not in the list. */
    final void removeChild(OwnedFuture<?> child) {
        OwnedFuture<?> prev = child.prevSibling, next = child.nextSibling;
        if (prev != null) {
            prev.nextSibling = next;
        } else if (firstChild == child) {
            firstChild = next;
        } else {
            return; // not in the list
        }
        if (next != null) {
            next.prevSibling = prev;
        }
        child.prevSibling = child.nextSibling = null;
    }

    /** Loop thread: the children in flight (walks the list; for tests and diagnostics). */
    final int childCount() {
        int count = 0;
        for (OwnedFuture<?> child = firstChild; child != null; child = child.nextSibling) {
            count++;
        }
        return count;
    }

    final Task<?> parent() {
        return owner;
    }
}
