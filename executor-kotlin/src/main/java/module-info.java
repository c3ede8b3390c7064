/**
 * Kotlin coroutines on a {@link dev.ringside.executor.RawExecutor}: a dispatcher that runs coroutines on
 * the executor's loop thread and routes {@code delay} and {@code withTimeout} to its timers, a way to run
 * a coroutine to completion by driving the loop, and suspend functions for its IO.
 */
module dev.ringside.executor.kotlin {
    requires transitive dev.ringside.executor;
    requires transitive kotlin.stdlib;
    requires transitive kotlinx.coroutines.core;

    exports dev.ringside.executor.kotlin;
}
