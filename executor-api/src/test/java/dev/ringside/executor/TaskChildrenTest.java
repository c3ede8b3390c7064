package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakePipe;
import dev.ringside.executor.fake.FakeReactor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A task tracks exactly the children it has in flight: finished and cancelled ones leave its list. */
class TaskChildrenTest {

    @Test
    void cancelledSleepsLeaveTheirTasksChildren() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            CompletableFuture<Void> release = new CompletableFuture<>();
            Task<Void> task = executor.spawn(() -> {
                for (int i = 0; i < 1_000; i++) {
                    executor.sleep(Duration.ofHours(1)).cancel(false); // e.g. a timeout that was not needed
                }
                return release;
            });
            executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
            assertEquals(0, task.childCount(), "no cancelled sleep is still tracked");
            release.complete(null);
            executor.runUntil(task);
        }
    }

    @Test
    void operationsChildTasksAndSleepsAreTrackedUntilTheyFinishInAnyOrder() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            FakePipe pipe = executor.reactor().newPipe(executor);
            CompletableFuture<Void> release = new CompletableFuture<>();
            List<CompletableFuture<?>> children = new ArrayList<>();
            Task<Void> task = executor.spawn(() -> {
                for (int i = 0; i < 3; i++) {
                    children.add(pipe.readEnd().read(IoSource.CURRENT_POSITION, new byte[1]));
                }
                children.add(executor.sleep(Duration.ofSeconds(1)));
                children.add(executor.spawn(() -> executor.sleep(Duration.ofSeconds(2))));
                return release;
            });
            executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
            assertEquals(5, task.childCount(), "three reads, a sleep and a child task");
            executor.runUntil(pipe.writeEnd().write(IoSource.CURRENT_POSITION, new byte[] {1, 2}));
            executor.runUntil(children.get(1));
            assertEquals(3, task.childCount(), "two reads done");
            executor.runUntil(children.get(4));
            assertEquals(1, task.childCount(), "the sleep and the child task done; one read left");
            task.cancel(false);
            executor.runUntil(executor.spawn(() -> CompletableFuture.completedFuture(null)));
            assertTrue(children.get(2).isCancelled(), "cancelling the task cancels its pending read");
            assertEquals(0, task.childCount());
        }
    }
}
