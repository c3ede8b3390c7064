package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many blocking-pool completions wake the loop from other threads at once: none may be lost. A lost
 * wake-up leaves the loop in epoll_wait for good; the test then fails after 30 s instead of hanging
 * (the executor is left to its daemon thread in that case).
 */
class EpollWakeStressTest {

    @TempDir
    Path dir;

    @Test
    void thirtyTwoFileReadsInFlightForTwoHundredRoundsAllComplete() throws Exception {
        byte[] contents = new byte[64 * 1024];
        Path path = Files.write(dir.resolve("file"), contents);
        RawExecutor<EpollReactor> executor = RawExecutor.create(EpollReactor::new);
        Thread loop = Thread.ofPlatform().daemon().name("epoll-stress-loop").start(executor::run);
        IoSource file = executor.register(Fd.open(path, StandardOpenOption.READ));
        int rounds = 200, depth = 32;
        Task<Integer> reads = executor.spawn(() -> round(file, rounds, depth, 0));
        int completed;
        try {
            completed = reads.get(30, TimeUnit.SECONDS);
        } catch (TimeoutException lost) {
            throw new AssertionError("a wake-up was lost: the loop stopped with reads in flight", lost);
        }
        assertEquals(rounds * depth, completed);
        file.close();
        executor.close();
        loop.join();
    }

    private static CompletableFuture<Integer> round(IoSource file, int roundsLeft, int depth, int done) {
        if (roundsLeft == 0) {
            return CompletableFuture.completedFuture(done);
        }
        List<CompletableFuture<Integer>> inFlight = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            inFlight.add(file.read(4096L * i, new byte[4096]));
        }
        return CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new))
                .thenCompose(v -> round(file, roundsLeft - 1, depth, done + depth));
    }
}
