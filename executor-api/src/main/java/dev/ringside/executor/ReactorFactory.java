package dev.ringside.executor;

import java.io.IOException;

/**
 * Creates the reactor of a new {@link RawExecutor}. Called once per executor, on the thread calling
 * {@link RawExecutor#create}.
 *
 * @param <R> the reactor type
 */
@FunctionalInterface
public interface ReactorFactory<R extends Reactor> {
    /** Creates a reactor, or fails with the reason it cannot be created here. */
    R create() throws IOException;
}
