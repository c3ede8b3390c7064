package dev.ringside.executor.contract;

import dev.ringside.executor.IoBuffer;
import dev.ringside.executor.MemRegion;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Shared set-up of the contract classes: one executor per test, closed after it. */
abstract class ContractSupport<R extends Reactor> {

    protected RawExecutor<R> executor;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    /** The reactor under test. */
    protected abstract ReactorFixture<R> fixture();

    @BeforeEach
    void createExecutor() throws Exception {
        executor = fixture().newExecutor();
    }

    @AfterEach
    void closeExecutor() throws Exception {
        executor.close();
        for (AutoCloseable closeable : cleanup.reversed()) {
            closeable.close();
        }
    }

    /** Closes {@code closeable} after the test. */
    protected <T extends AutoCloseable> T closeLater(T closeable) {
        cleanup.add(closeable);
        return closeable;
    }

    protected ReactorFixture.PipeEnds pipe() throws Exception {
        return closeLater(fixture().newPipe(executor));
    }

    /** A read into a new buffer of {@code size} bytes, pending on an empty new pipe: in the reactor once this returns. */
    protected PendingRead pendingRead(int size) throws Exception {
        var pipe = pipe();
        IoBuffer buffer = IoBuffer.allocate(size);
        CompletableFuture<Integer> read = pipe.readEnd().read(-1, buffer, new MemRegion(0, size));
        executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        return new PendingRead(pipe, read, buffer);
    }

    /** A pending read, its pipe, and the buffer it reads into (which the test owns). */
    protected record PendingRead(ReactorFixture.PipeEnds pipe, CompletableFuture<Integer> read, IoBuffer buffer) {
    }

    protected ReactorFixture.FileUnderTest file(byte[] contents) throws Exception {
        return closeLater(fixture().newFile(executor, contents));
    }

    /** The kernel's id of the calling thread (its entry under {@code /proc/self/task}). */
    protected static String kernelThreadId() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until the kernel thread {@code id} ({@link #kernelThreadId()}) has exited: a joined
     * {@link Thread} has ended for Java, but its kernel thread may still be on its way out.
     */
    protected static void awaitKernelThreadExit(String id) throws InterruptedException {
        Path entry = Path.of("/proc/self/task", id);
        for (int i = 0; i < 10_000 && Files.exists(entry); i++) {
            Thread.sleep(1);
        }
        if (Files.exists(entry)) {
            throw new AssertionError("kernel thread " + id + " still exists after 10 s");
        }
    }

    /**
     * Drives the loop until {@code condition} holds, sleeping in short steps on the reactor's clock (so
     * that the reactor keeps reaping). Fails after 2000 steps.
     */
    protected void loopUntil(BooleanSupplier condition) {
        loopUntil(executor, condition);
    }

    /** {@link #loopUntil(BooleanSupplier)} on {@code executor}, for contract classes without this set-up. */
    static void loopUntil(RawExecutor<?> executor, BooleanSupplier condition) {
        for (int i = 0; i < 2000 && !condition.getAsBoolean(); i++) {
            executor.runUntil(executor.sleep(Duration.ofMillis(2)));
        }
        if (!condition.getAsBoolean()) {
            throw new AssertionError("condition not reached while driving the loop");
        }
    }

    /** Runs {@code body} as a task and drives the loop until it completes. */
    protected <T> T inTask(java.util.concurrent.Callable<? extends java.util.concurrent.CompletionStage<T>> body) {
        return executor.runUntil(executor.spawn(body));
    }

    protected static byte[] bytes(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    protected static <T> CompletableFuture<T> never() {
        return new CompletableFuture<>();
    }
}
