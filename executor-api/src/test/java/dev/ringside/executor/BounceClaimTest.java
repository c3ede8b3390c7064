package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakePipe;
import dev.ringside.executor.fake.FakeReactor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The claim on a caller's array between the loop (copying a bounce read in) and a thread finishing the
 * future from outside, in the interleaving no end-to-end test can force: the outside thread has taken
 * the claim but not yet finished the future when the kernel's completion arrives.
 */
class BounceClaimTest {

    @Test
    void whenTheOutsideThreadClaimedFirstTheLoopNeitherCopiesNorCompletes() throws Exception {
        try (RawExecutor<FakeReactor> executor = RawExecutor.create(FakeReactor::new)) {
            FakePipe pipe = executor.reactor().newPipe(executor);
            byte[] into = new byte[4];
            CompletableFuture<Integer> read = pipe.readEnd().read(IoSource.CURRENT_POSITION, into);
            executor.runUntil(executor.sleep(Duration.ofMillis(1)));
            IoOperation.Ranged operation = (IoOperation.Ranged) (CompletableFuture<?>) read;
            assertTrue(operation.claimForOutside(), "the outside thread's claim: it is about to time the read out");

            executor.runUntil(pipe.writeEnd().write(IoSource.CURRENT_POSITION, "data".getBytes()));
            executor.runUntil(executor.sleep(Duration.ofMillis(1))); // the read completed and its delivery ran
            assertFalse(read.isDone(), "delivery leaves the future to the thread that claimed it");
            assertArrayEquals(new byte[4], into, "the loop did not copy into the claimed array");
            assertFalse(operation.claimForLoop());

            assertTrue(read.completeExceptionally(new TimeoutException())); // the outside thread finishes
            CompletionException failure = assertThrows(CompletionException.class, read::join);
            assertInstanceOf(TimeoutException.class, failure.getCause());
        }
    }

    // The other order (the loop claimed first, so cancelling and completing from outside fail) is
    // IoSourceContract.aBounceReadTheKernelFinishedIsDeliveredNotCancelled, on every reactor.
}
