package dev.ringside.executor;

import java.io.Serial;
import java.util.concurrent.RejectedExecutionException;

/** Work was given to an executor that is shut down or closed. */
public final class ExecutorClosedException extends RejectedExecutionException {
    @Serial
    private static final long serialVersionUID = 1L;

    public ExecutorClosedException(String message) {
        super(message);
    }
}
