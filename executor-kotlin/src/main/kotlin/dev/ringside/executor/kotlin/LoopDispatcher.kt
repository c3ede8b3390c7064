package dev.ringside.executor.kotlin

import dev.ringside.executor.ExecutorClosedException
import dev.ringside.executor.RawExecutor
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.Future
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.TimeUnit
import java.util.function.BiConsumer
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.resume
import kotlinx.coroutines.CancellableContinuation
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Delay
import kotlinx.coroutines.DisposableHandle
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.InternalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.NonDisposableHandle

/**
 * The coroutine dispatcher of this executor: coroutines dispatched by it run on the executor's loop
 * thread, and `delay`, `withTimeout` and `withTimeoutOrNull` in them wait on the executor's timers,
 * so they follow the reactor's clock (virtual time with the fake reactor).
 *
 * Dispatchers of one executor are equal (by executor identity), so `withContext(executor.dispatcher)`
 * from a coroutine already on that executor does not dispatch again. Reading the property allocates a
 * small object; keep it in a `val` in hot paths.
 *
 * ## Contract
 * - **Dispatch** hands the coroutine to [RawExecutor.execute]: from the loop thread it goes on the loop's
 *   local queue, from any other thread on its remote queue (with at most one wake-up for a burst).
 *   The coroutine runs when the thread inside [RawExecutor.run] or [RawExecutor.runUntil] (for example
 *   [runCoroutine]) reaches it; nothing runs while no thread drives the loop.
 * - **Always dispatched**: [CoroutineDispatcher.isDispatchNeeded] is `true`, also on the loop thread.
 *   A resumed coroutine is queued behind the work already on the loop rather than run inside whoever
 *   resumed it. Three reasons:
 *   1. Fairness: each resumption is one item of the loop's bounded batch, so coroutines that keep
 *      resuming each other (two coroutines passing values through a rendezvous channel) cannot keep IO
 *      completions from being reaped. Resumed inline, such a pair never gives the loop back.
 *   2. Task ownership: while the loop completes a [dev.ringside.executor.Task] or one of its IO
 *      operations or sleeps, that task is the loop's *current task*, and IO, sleeps and spawns issued
 *      then become its children. A coroutine resumed inline there (say after awaiting a task's result)
 *      would hand its next IO to a task that has just finished, which cancels it on the spot. Run from
 *      its own queue item, coroutine code never belongs to a task; its cancellation is the coroutine's
 *      `Job`'s (and `await()` cancels the awaited future).
 *   3. It costs one push and pop of the loop's local `ArrayDeque` and no wake-up.
 * - **Timers**: `delay(t)` uses [RawExecutor.sleep]; `withTimeout(t)` likewise. Cancelling the coroutine
 *   (or leaving `withTimeout` early) cancels the timer. Times are whole milliseconds, as
 *   kotlinx.coroutines gives them.
 * - **Closing**: when the executor refuses a dispatch or a timer (it is shut down and the caller is not
 *   the loop thread, or it is closed) the coroutine's `Job` is cancelled with a
 *   [kotlinx.coroutines.CancellationException] whose cause is the
 *   [dev.ringside.executor.ExecutorClosedException], and the refused continuation runs on
 *   [Dispatchers.IO] so that the coroutine can finish (its `finally` blocks run there, not on the loop).
 *   When [RawExecutor.close] cancels a timer a coroutine waits on, the coroutine's `Job` is cancelled
 *   the same way. A continuation that was already queued on the loop when the executor closed is
 *   discarded with the executor's other unstarted runnables, and its coroutine is cancelled and
 *   finishes on [Dispatchers.IO] too: nothing stays suspended for ever.
 */
public val RawExecutor<*>.dispatcher: CoroutineDispatcher
    get() = LoopDispatcher(this)

/**
 * The [dispatcher] of one [RawExecutor]; instances compare equal by executor identity. Implementing
 * [Delay] (an internal kotlinx.coroutines interface, the only way to give `delay` and `withTimeout` a
 * clock) is what makes them use the executor's timers.
 */
@OptIn(InternalCoroutinesApi::class)
internal class LoopDispatcher(private val executor: RawExecutor<*>) : CoroutineDispatcher(), Delay {

    override fun isDispatchNeeded(context: CoroutineContext): Boolean = true

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        try {
            executor.execute(QueuedContinuation(context, block))
        } catch (refused: RejectedExecutionException) {
            cancelCoroutine(context, "the executor refused the coroutine", refused)
            Dispatchers.IO.dispatch(context, block)
        }
    }

    override fun scheduleResumeAfterDelay(timeMillis: Long, continuation: CancellableContinuation<Unit>) {
        val timer = try {
            executor.sleep(millisToDuration(timeMillis))
        } catch (refused: RejectedExecutionException) {
            cancelDelay(continuation, "the executor refused the timer of a delay", refused)
            return
        }
        timer.whenComplete(ResumeWhenDue(executor, continuation))
        continuation.invokeOnCancellation { timer.cancel(false) }
    }

    override fun invokeOnTimeout(timeMillis: Long, block: Runnable, context: CoroutineContext): DisposableHandle {
        val timer = try {
            executor.sleep(millisToDuration(timeMillis))
        } catch (refused: RejectedExecutionException) {
            cancelCoroutine(context, "the executor refused the timer of a timeout", refused)
            return NonDisposableHandle
        }
        val timeout = TimeoutWhenDue(executor, timer, block, context)
        timer.whenComplete(timeout)
        return timeout
    }

    override fun equals(other: Any?): Boolean = other is LoopDispatcher && other.executor === executor

    override fun hashCode(): Int = System.identityHashCode(executor)

    override fun toString(): String = "$executor.dispatcher"

    /**
     * A continuation queued on the loop. The executor cancels a [Future] it discards at close; that
     * cancels the coroutine and lets it finish on [Dispatchers.IO] instead of staying suspended.
     */
    private class QueuedContinuation(private val context: CoroutineContext, private val block: Runnable) :
        Runnable, Future<Unit> {
        @Volatile
        private var discarded = false

        override fun run() {
            if (!discarded) { // once discarded, the block was sent to Dispatchers.IO (see cancel)
                block.run()
            }
        }

        override fun cancel(mayInterruptIfRunning: Boolean): Boolean {
            if (discarded) {
                return false
            }
            discarded = true
            cancelCoroutine(context, "the executor closed before the coroutine could resume", null)
            Dispatchers.IO.dispatch(context, block)
            return true
        }

        override fun isCancelled(): Boolean = discarded

        override fun isDone(): Boolean = discarded

        override fun get(): Unit = throw UnsupportedOperationException("a queued continuation has no result")

        override fun get(timeout: Long, unit: TimeUnit): Unit = get()
    }

    /** Resumes a `delay` when its timer is due; cancels the coroutine if the executor cancelled the timer. */
    private class ResumeWhenDue(
        private val executor: RawExecutor<*>,
        private val continuation: CancellableContinuation<Unit>,
    ) : BiConsumer<Void?, Throwable?> {
        override fun accept(value: Void?, failure: Throwable?) {
            if (failure == null) {
                // Dispatched like any resumption: the timer may run in the context of the task that
                // started the coroutine undispatched.
                continuation.resume(Unit)
            } else if (continuation.isActive) {
                // Not our cancellation (that makes the continuation inactive first): the executor's.
                cancelDelay(continuation, "the executor cancelled the timer of a delay", closedOr(executor, "delay", failure))
            }
        }
    }

    /** Runs a `withTimeout` block when its timer is due; [dispose] cancels the timer. */
    private class TimeoutWhenDue(
        private val executor: RawExecutor<*>,
        private val timer: CompletableFuture<Void>,
        private val block: Runnable,
        private val context: CoroutineContext,
    ) : BiConsumer<Void?, Throwable?>, DisposableHandle {
        @Volatile
        private var disposed = false

        override fun accept(value: Void?, failure: Throwable?) {
            if (failure == null) {
                block.run()
            } else if (!disposed) {
                cancelCoroutine(context, "the executor cancelled the timer of a timeout", closedOr(executor, "withTimeout", failure))
            }
        }

        override fun dispose() {
            disposed = true
            timer.cancel(false)
        }
    }

    private companion object {
        /** Whole milliseconds as a [Duration], saturating instead of overflowing the nanosecond clock. */
        private fun millisToDuration(timeMillis: Long): Duration =
            Duration.ofNanos(TimeUnit.MILLISECONDS.toNanos(timeMillis.coerceAtLeast(0)))

        /**
         * The cause to cancel a coroutine with when the executor cancelled its timer: the executor's
         * refusal if it is closing (so [runCoroutine] reports [ExecutorClosedException], as for a
         * refused dispatch), else the timer's [failure].
         */
        fun closedOr(executor: RawExecutor<*>, call: String, failure: Throwable): Throwable =
            if (executor.isShutdown) {
                ExecutorClosedException("$call: the executor closed before its timer was due").apply { initCause(failure) }
            } else {
                failure
            }

        /** Cancels the coroutine's `Job`, if it has one. */
        fun cancelCoroutine(context: CoroutineContext, message: String, cause: Throwable?) {
            context[Job]?.cancel(CancellationException(message, cause))
        }

        /** Cancels the coroutine's `Job` or, in a coroutine without one, just the suspended `delay`. */
        fun cancelDelay(continuation: CancellableContinuation<Unit>, message: String, cause: Throwable) {
            val failure = CancellationException(message, cause)
            continuation.context[Job]?.cancel(failure) ?: continuation.cancel(failure)
        }
    }
}
