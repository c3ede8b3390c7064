package dev.ringside.bench;

import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import dev.ringside.executor.ReactorFactory;
import dev.ringside.executor.ReactorProvider;
import dev.ringside.executor.fake.FakeReactor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Executors for a benchmark's {@code reactor} parameter: {@code "fake"} is the {@link FakeReactor};
 * any other name is looked up among the {@link ReactorProvider}s on the class path (the io_uring and
 * epoll reactors register theirs), so adding a reactor to a benchmark is adding its name to the
 * parameter's values.
 */
final class Reactors {

    /** The {@code reactor} parameter value meaning the fake reactor. */
    static final String FAKE = "fake";

    /**
     * The {@code reactor} parameter value meaning io_uring with {@code SINGLE_ISSUER | DEFER_TASKRUN}
     * ({@code UringReactor.builder().singleIssuer(true)}): the first thread that runs the loop is then the
     * only one that may run it, and must also close the executor unless the loop is running; this holds
     * for benchmarks that drive the loop from one thread, and for those that run it on a thread of their
     * own until it is closed.
     */
    static final String URING_DEFER = "uring-defer";

    /**
     * The {@code reactor} parameter value meaning io_uring entering the kernel for every operation
     * ({@code UringReactor.builder().submitBatch(1)}), as fio does by default.
     */
    static final String URING_SUBMIT_EACH = "uring-submit1";

    private Reactors() {
    }

    /** Runs {@code executor}'s loop on a new daemon thread named "ringside-loop", until it is closed. */
    static Thread startLoop(RawExecutor<?> executor) {
        Thread loop = new Thread(executor::run, "ringside-loop");
        loop.setDaemon(true);
        loop.start();
        return loop;
    }

    /**
     * A new executor on the reactor named {@code name}.
     *
     * @throws IllegalArgumentException if no reactor has that name
     * @throws IOException if the reactor is unavailable here (the message says why) or fails to start
     */
    static RawExecutor<?> newExecutor(String name) throws IOException {
        return newExecutor(name, Duration.ZERO);
    }

    /**
     * {@link #newExecutor(String)} whose loop spins for {@code spinBeforeBlocking} before it blocks
     * ({@link RawExecutor.Builder#spinBeforeBlocking}).
     */
    static RawExecutor<?> newExecutor(String name, Duration spinBeforeBlocking) throws IOException {
        if (FAKE.equals(name)) {
            return build(FakeReactor::new, spinBeforeBlocking);
        }
        if (URING_DEFER.equals(name)) {
            return build(dev.ringside.reactor.uring.UringReactor.builder().singleIssuer(true).factory(), spinBeforeBlocking);
        }
        if (URING_SUBMIT_EACH.equals(name)) {
            return build(dev.ringside.reactor.uring.UringReactor.builder().submitBatch(1).factory(), spinBeforeBlocking);
        }
        List<String> known = new ArrayList<>(List.of(FAKE, URING_DEFER, URING_SUBMIT_EACH));
        for (ReactorProvider provider : ServiceLoader.load(ReactorProvider.class)) {
            if (!provider.name().equals(name)) {
                known.add(provider.name());
                continue;
            }
            Optional<String> cause = provider.unavailabilityCause();
            if (cause.isPresent()) {
                throw new IOException("reactor " + name + " is unavailable here: " + cause.get());
            }
            return build(provider.factory(), spinBeforeBlocking);
        }
        throw new IllegalArgumentException("no reactor is named \"" + name + "\"; known: " + known);
    }

    private static <R extends Reactor> RawExecutor<R> build(ReactorFactory<R> factory, Duration spinBeforeBlocking)
            throws IOException {
        return RawExecutor.builder(factory).spinBeforeBlocking(spinBeforeBlocking).build();
    }
}
