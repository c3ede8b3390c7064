package dev.ringside.executor;

import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.RunnableScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A timer of a {@link RawExecutor}: a delayed or periodic action, or a sleep (no action). It lives in
 * the executor's timer heap, which is confined to the loop thread; when due, the loop runs it in its
 * task batch. Its deadline is in {@link Reactor#nanoTime()} units.
 *
 * <p>Threads: {@code deadline} is written before the timer is published to the loop and, for periodic
 * timers, by the loop thread between runs; it is volatile so {@link #getDelay} can be read anywhere.
 */
final class ScheduledTask<V> extends OwnedFuture<V> implements RunnableScheduledFuture<V> {

    private final RawExecutor<?> executor;
    private final Callable<V> action;
    /** 0: one-shot; positive: fixed rate; negative: fixed delay of {@code -period}. */
    private final long period;
    final long sequence;
    private volatile long deadline;

    /** {@code owner}: for a sleep, the task that slept, whose context the completion runs in; else null. */
    ScheduledTask(RawExecutor<?> executor, Callable<V> action, long deadline, long period, long sequence, Task<?> owner) {
        super(owner);
        this.executor = executor;
        this.action = action;
        this.deadline = deadline;
        this.period = period;
        this.sequence = sequence;
    }

    long deadline() {
        return deadline;
    }

    @Override
    public long getDelay(TimeUnit unit) {
        return unit.convert(deadline - executor.reactor().nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
        if (other == this) {
            return 0;
        }
        if (other instanceof ScheduledTask<?> timer) {
            int byDeadline = Long.compare(deadline, timer.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(sequence, timer.sequence);
        }
        return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean isPeriodic() {
        return period != 0;
    }

    /** Loop thread: the timer is due. */
    @Override
    public void run() {
        if (isDone()) {
            return;
        }
        if (action == null) {
            Task<?> previous = executor.enterTask(owner);
            try {
                complete(null);
            } finally {
                executor.exitTask(previous);
            }
            leaveOwner();
            return;
        }
        try {
            V value = action.call();
            if (period == 0) {
                complete(value);
            } else if (!isDone()) {
                deadline = nextDeadline();
                if (!executor.reschedule(this)) {
                    super.cancel(false);
                }
            }
        } catch (Throwable failure) {
            completeExceptionally(failure);
        }
    }

    /**
     * A periodic timer's next deadline: a period after this one (fixed rate) or after now (fixed
     * delay), saturating as one-shot deadlines do, so a period near {@code Long.MAX_VALUE} nanoseconds
     * cannot wrap around into the past.
     */
    private long nextDeadline() {
        long from = period > 0 ? deadline : executor.reactor().nanoTime();
        long step = period > 0 ? period : -period; // a fixed delay is stored negated
        long next = from + step;
        return next < from ? Long.MAX_VALUE - 1 : next; // MAX_VALUE itself means no deadline
    }

    /**
     * Cancels the timer; the loop drops it from the heap and, for a sleep, from its owner's children
     * (a task that keeps starting and cancelling timeouts must not accumulate them).
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            executor.onLoop(() -> {
                executor.removeTimer(this);
                leaveOwner();
            });
        }
        return cancelled;
    }

    @Override
    public String toString() {
        return "ScheduledTask[deadline=" + deadline + ", period=" + period + (isDone() ? ", done" : "") + "]";
    }
}
