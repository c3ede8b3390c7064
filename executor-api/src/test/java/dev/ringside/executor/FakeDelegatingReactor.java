package dev.ringside.executor;

import dev.ringside.executor.fake.FakeReactor;
import java.io.IOException;
import java.util.concurrent.CompletionStage;

/**
 * A test reactor that does what a {@link FakeReactor} does, for tests that add behaviour around one of
 * its methods (the loop-thread hooks, the wait) by overriding it.
 */
abstract class FakeDelegatingReactor implements Reactor {
    final FakeReactor fake = new FakeReactor();

    @Override
    public void onThreadStart() {
    }

    @Override
    public void onThreadStop() {
    }

    @Override
    public void waitForWork(long deadlineNanos, Runnable setProcessing) throws IOException {
        fake.waitForWork(deadlineNanos, setProcessing);
    }

    @Override
    public void wake() {
        fake.wake();
    }

    @Override
    public CompletionStage<Void> onExecutorDrop() {
        return fake.onExecutorDrop();
    }

    @Override
    public long nanoTime() {
        return fake.nanoTime();
    }

    @Override
    public IoSource newSource(RawExecutor<?> executor, Fd fd) throws IOException {
        return fake.newSource(executor, fd);
    }

    @Override
    public void close() {
        fake.close();
    }
}
