package dev.ringside.bench;

import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.ReactorProvider;
import dev.ringside.executor.fake.FakeReactor;
import java.io.IOException;
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

    private Reactors() {
    }

    /**
     * A new executor on the reactor named {@code name}.
     *
     * @throws IllegalArgumentException if no reactor has that name
     * @throws IOException if the reactor is unavailable here (the message says why) or fails to start
     */
    static RawExecutor<?> newExecutor(String name) throws IOException {
        if (FAKE.equals(name)) {
            return RawExecutor.create(FakeReactor::new);
        }
        List<String> known = new ArrayList<>(List.of(FAKE));
        for (ReactorProvider provider : ServiceLoader.load(ReactorProvider.class)) {
            if (!provider.name().equals(name)) {
                known.add(provider.name());
                continue;
            }
            Optional<String> cause = provider.unavailabilityCause();
            if (cause.isPresent()) {
                throw new IOException("reactor " + name + " is unavailable here: " + cause.get());
            }
            return RawExecutor.create(provider.factory());
        }
        throw new IllegalArgumentException("no reactor is named \"" + name + "\"; known: " + known);
    }
}
