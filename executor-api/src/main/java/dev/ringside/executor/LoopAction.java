package dev.ringside.executor;

/**
 * Work the executor itself puts on its loop (operation starts, cancellations, completions, timer
 * bookkeeping), as opposed to users' runnables. It runs even while the executor drains; users'
 * runnables are then discarded instead.
 */
@FunctionalInterface
interface LoopAction extends Runnable {
}
