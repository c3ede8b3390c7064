package dev.ringside.executor;

import java.util.concurrent.CompletableFuture;

/**
 * A future that a {@link Task} issued and that is cancelled with it: a child task, a sleep, or an IO
 * operation. It is one node of its owner's list of children, so that a task tracks what it has in
 * flight without allocating anything per child.
 *
 * <h2>The children list</h2>
 * A task's children form a doubly linked list threaded through {@link #prevSibling} and
 * {@link #nextSibling}, headed by the task's {@code firstChild}. Adding and removing are O(1) in any
 * order (IO completes in any order); a task that ends normally forgets its list, and a cancelled task
 * detaches the whole list and cancels each child in turn. A child that is not in a list (never added,
 * already removed, or detached) has both links null and is not its owner's {@code firstChild};
 * removing it again does nothing.
 *
 * <p>Threads: the links are confined to the loop thread of the owner's executor, which is where a
 * child is added (the owner's code issued it) and removed (its completion is delivered there). The
 * future itself is thread-safe, as any {@link CompletableFuture}.
 */
abstract class OwnedFuture<T> extends CompletableFuture<T> {

    /** The task whose code issued this future; cancelling it cancels this. May be null. */
    final Task<?> owner;

    // Confined to the loop thread of owner's executor.
    OwnedFuture<?> prevSibling, nextSibling;

    OwnedFuture(Task<?> owner) {
        this.owner = owner;
    }

    /**
     * Leaves the owner's list of children, if it is in one: the future finished, or will never need
     * cancelling. Loop thread of the owner's executor.
     */
    final void leaveOwner() {
        if (owner != null) {
            owner.removeChild(this);
        }
    }
}
