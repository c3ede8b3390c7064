package dev.ringside.executor.kotlin

import dev.ringside.executor.RawExecutor
import java.util.concurrent.CompletionException
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.future.asCompletableFuture

/**
 * Runs [block] as a coroutine on this executor's loop and drives the loop on the calling thread
 * (with [RawExecutor.runUntil]) until the coroutine and its children complete; returns its result.
 * It is to a [RawExecutor] what `runBlocking` is to a thread.
 *
 * ## Contract
 * - The coroutine runs on the loop thread with [dispatcher] as its dispatcher, so `delay` and
 *   `withTimeout` follow the reactor's clock; [context] is added to it (a `Job` in it becomes the
 *   coroutine's parent; a dispatcher in it is replaced).
 * - While it waits, the calling thread is the loop thread and runs every other task, coroutine and IO
 *   completion of the executor too. It returns as soon as the coroutine completes, leaving other work
 *   queued for the next [RawExecutor.run] or [RawExecutor.runUntil].
 * - The result is the coroutine's: its value, or the exception it failed with, thrown as is (not wrapped
 *   in a [CompletionException]); a cancelled coroutine throws [CancellationException].
 * - If the loop stops before the coroutine completes (the executor closed, or the reactor failed) the
 *   exception of [RawExecutor.runUntil] propagates and the coroutine is cancelled.
 *
 * @throws IllegalStateException if the calling thread is this executor's loop thread (a coroutine or
 *   task cannot block its own loop: suspend instead), or another thread is running the loop
 * @throws dev.ringside.executor.ExecutorClosedException if the executor is shut down or closed before
 *   the coroutine could run
 */
public fun <T> RawExecutor<*>.runCoroutine(
    context: CoroutineContext = EmptyCoroutineContext,
    block: suspend CoroutineScope.() -> T,
): T {
    check(!isLoopThread) {
        "runCoroutine called on the loop thread of $this: a coroutine or task cannot block its own loop; suspend instead"
    }
    // Started lazily, by the loop, and only if the loop runs on this thread: if another thread holds
    // the loop, runUntil below refuses this one, and the coroutine must not have run there meanwhile.
    val coroutine = CoroutineScope(context + dispatcher).async(start = CoroutineStart.LAZY, block = block)
    // handle() sees the coroutine's own exception (join() would wrap it, or replace a cancellation).
    val outcome = coroutine.asCompletableFuture().handle { value, failure ->
        if (failure == null) Result.success(value) else Result.failure(failure)
    }
    val caller = Thread.currentThread()
    try {
        execute {
            if (Thread.currentThread() === caller) {
                coroutine.start()
            } else {
                coroutine.cancel(CancellationException("runCoroutine: the loop ran on another thread than the caller's"))
            }
        }
        return runUntil(outcome).getOrElse { failure -> throw closedCause(failure) ?: failure }
    } finally {
        if (!coroutine.isCompleted) {
            coroutine.cancel(CancellationException("runCoroutine: the loop stopped before the coroutine completed"))
        }
    }
}

/**
 * The executor's refusal behind a cancellation: [dispatcher] cancels a coroutine it cannot dispatch with
 * a cause chain that ends in [java.util.concurrent.RejectedExecutionException]; that, not the
 * cancellation, is what the caller of [runCoroutine] needs to see.
 */
private fun closedCause(failure: Throwable): Throwable? {
    if (failure !is java.util.concurrent.CancellationException) {
        return null
    }
    var cause = failure.cause
    while (cause != null) {
        if (cause is java.util.concurrent.RejectedExecutionException) {
            return cause
        }
        cause = cause.cause.takeIf { it !== cause }
    }
    return null
}
