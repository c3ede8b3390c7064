package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakeReactor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What a close accounts for when much work is queued from other threads. */
class CloseAccountingTest {

    /**
     * shutdownNow() returns every runnable given with execute that never ran, and leaves no future of
     * submit pending, however many are queued (the remote queue hands them over in chunks of 4096).
     */
    @Test
    void shutdownNowAccountsForEveryQueuedItem() throws Exception {
        RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new);
        CountDownLatch loopBusy = new CountDownLatch(1), release = new CountDownLatch(1);
        executor.execute(() -> {
            loopBusy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread loop = Thread.ofPlatform().start(executor::run);
        assertTrue(loopBusy.await(10, java.util.concurrent.TimeUnit.SECONDS));
        int items = 20_000;
        AtomicInteger ran = new AtomicInteger();
        List<Future<?>> submitted = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            if (i % 10 == 0) {
                submitted.add(executor.submit(ran::incrementAndGet));
            } else {
                executor.execute(ran::incrementAndGet);
            }
        }
        AtomicReference<List<Runnable>> returned = new AtomicReference<>();
        AtomicInteger pendingOnReturn = new AtomicInteger(-1);
        Thread closer = Thread.ofPlatform().start(() -> {
            returned.set(executor.shutdownNow());
            pendingOnReturn.set((int) submitted.stream().filter(f -> !f.isDone()).count());
        });
        while (!executor.isShutdown()) {
            Thread.onSpinWait();
        }
        release.countDown();
        closer.join();
        loop.join();
        assertTrue(executor.isTerminated());
        assertEquals(0, ran.get(), "nothing queued behind the busy item ran after the close");
        assertEquals(items, returned.get().size(), "every runnable given to execute (submit's too) is returned");
        assertEquals(0, pendingOnReturn.get(), "every submit()ted future is done when shutdownNow returns");
    }
}
