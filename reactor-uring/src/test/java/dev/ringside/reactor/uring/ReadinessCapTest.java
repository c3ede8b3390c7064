package dev.ringside.reactor.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cap on waits for readiness (31 per operation) is for a descriptor that reports ready and then
 * answers EAGAIN; readers that lose a byte to other readers of the same pipe are not that. Kernels
 * before 5.14 answer EAGAIN for a descriptor the caller made non-blocking; {@code nowaitForTest}
 * makes this one do the same.
 */
class ReadinessCapTest {

    @BeforeAll
    static void requireIoUring() {
        UringFixture.assumeReactorAvailable();
    }

    @Test
    void readersThatLoseBytesToOtherReadersOfTheSamePipeKeepWaiting() throws Exception {
        try (RawExecutor<UringReactor> executor = RawExecutor.create(UringReactor::new)) {
            executor.reactor().nowaitForTest = true;
            Fd.Pipe pipe = Fd.pipe();
            IoSource readEnd = executor.register(pipe.readEnd());
            IoSource writeEnd = executor.register(pipe.writeEnd());
            int readers = 40;
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                reads.add(readEnd.read(IoSource.CURRENT_POSITION, new byte[1]));
            }
            executor.runUntil(executor.sleep(Duration.ofMillis(5)));
            for (int i = 0; i < readers; i++) { // one byte at a time: every byte wakes every waiting reader
                assertEquals(1, executor.runUntil(writeEnd.write(IoSource.CURRENT_POSITION, new byte[] {(byte) i})));
                executor.runUntil(executor.sleep(Duration.ofMillis(2)));
            }
            List<String> failures = new ArrayList<>();
            for (CompletableFuture<Integer> read : reads) {
                try {
                    assertEquals(1, read.get(10, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    failures.add(e.getCause().getMessage());
                }
            }
            assertEquals(List.of(), failures, "after " + executor.reactor().readinessWaits() + " waits for readiness");
            readEnd.close();
            writeEnd.close();
        }
    }
}
