package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Reactor#onThreadStart()} and {@link Reactor#onThreadStop()} come in pairs, on the thread that
 * runs the loop, however the loop ends: a reactor that binds something to the loop thread (the io_uring
 * reactor registers its ring there) can always release it.
 */
class LoopThreadHooksTest {

    /** A fake reactor that records the hooks and the threads they ran on. */
    static final class RecordingReactor extends FakeDelegatingReactor {
        final List<String> calls = new ArrayList<>();
        boolean failNextWait;

        @Override
        public void onThreadStart() {
            calls.add("start " + Thread.currentThread().getName());
        }

        @Override
        public void onThreadStop() {
            calls.add("stop " + Thread.currentThread().getName());
        }

        @Override
        public void waitForWork(long deadlineNanos, Runnable setProcessing) throws IOException {
            if (failNextWait) {
                failNextWait = false;
                throw new IOException("the reactor failed (test)");
            }
            super.waitForWork(deadlineNanos, setProcessing);
        }

        @Override
        public void close() {
            calls.add("close");
            super.close();
        }
    }

    @Test
    void everyLoopOnAThreadEndsWithStopOnThatThreadHoweverItEnds() throws Exception {
        RawExecutor<RecordingReactor> executor = RawExecutor.create(RecordingReactor::new);
        RecordingReactor reactor = executor.reactor();
        List<String> calls = reactor.calls;
        String me = Thread.currentThread().getName();

        executor.runUntil(executor.sleep(Duration.ofSeconds(1)));
        assertEquals(List.of("start " + me, "stop " + me), calls);

        calls.clear();
        Thread other = Thread.ofPlatform().name("other-loop").start(
                () -> executor.runUntil(executor.sleep(Duration.ofSeconds(1))));
        other.join();
        assertEquals(List.of("start other-loop", "stop other-loop"), calls, "the loop moved to another thread");

        calls.clear();
        reactor.failNextWait = true;
        assertThrows(UncheckedIOException.class, () -> executor.runUntil(executor.sleep(Duration.ofSeconds(1))));
        assertEquals(List.of("start " + me, "stop " + me), calls, "a loop the reactor fails stops too");

        calls.clear();
        executor.close(); // no loop running: close drains on this thread
        assertEquals(List.of("start " + me, "close", "stop " + me), calls);
    }
}
