package dev.ringside.reactor.poll;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.Fd;
import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.ReactorProvider;
import dev.ringside.executor.Task;
import dev.ringside.reactor.uring.UringReactor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;

/** io_uring and epoll executors side by side, each loop on its own thread, and reactor selection. */
class CrossReactorTest {

    private RawExecutor<UringReactor> uring;
    private RawExecutor<EpollReactor> epoll;
    private Thread uringLoop, epollLoop;

    @BeforeEach
    void start() throws Exception {
        Assumptions.assumeTrue(UringReactor.isAvailable(), () -> "io_uring unavailable: " + UringReactor.unavailabilityCause());
        uring = RawExecutor.create(UringReactor::new);
        epoll = RawExecutor.create(EpollReactor::new);
        uringLoop = Thread.ofPlatform().name("uring-loop").start(uring::run);
        epollLoop = Thread.ofPlatform().name("epoll-loop").start(epoll::run);
    }

    @AfterEach
    void stop() throws Exception {
        if (uring != null) {
            uring.close();
            epoll.close();
            uringLoop.join();
            epollLoop.join();
        }
        System.clearProperty(UringReactor.DISABLE_PROPERTY);
        System.clearProperty(ReactorProvider.SELECTION_PROPERTY);
    }

    @Test
    void anEpollTaskAwaitsAnIoUringSource() throws Exception {
        awaitAcross(uring, epoll);
    }

    @Test
    void anIoUringTaskAwaitsAnEpollSource() throws Exception {
        awaitAcross(epoll, uring);
    }

    private static void awaitAcross(RawExecutor<?> owner, RawExecutor<?> awaiter) throws Exception {
        Fd.Pipe pipe = Fd.pipe();
        IoSource readEnd = owner.register(pipe.readEnd());
        IoSource writeEnd = owner.register(pipe.writeEnd());
        byte[] into = new byte[6];
        AtomicBoolean onAwaiterLoop = new AtomicBoolean();
        Task<Integer> task = awaiter.spawn(() -> readEnd.read(IoSource.CURRENT_POSITION, into)
                .whenComplete((n, e) -> onAwaiterLoop.set(awaiter.isLoopThread())));
        writeEnd.write(IoSource.CURRENT_POSITION, "across".getBytes()).get(10, TimeUnit.SECONDS);
        assertEquals(6, task.get(10, TimeUnit.SECONDS));
        assertArrayEquals("across".getBytes(), into);
        assertTrue(onAwaiterLoop.get(), "the task resumed on its own executor's loop");
        readEnd.close();
        writeEnd.close();
    }

    @Test
    void createDefaultPicksIoUringAndFallsBackToEpollWhenItIsForcedUnavailable() throws Exception {
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(UringReactor.class, executor.reactor());
        }
        System.setProperty(UringReactor.DISABLE_PROPERTY, "true");
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(EpollReactor.class, executor.reactor());
        }
        System.clearProperty(UringReactor.DISABLE_PROPERTY);
        System.setProperty(ReactorProvider.SELECTION_PROPERTY, "epoll");
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(EpollReactor.class, executor.reactor());
        }
    }
}
