package dev.ringside.reactor.uring;

import dev.ringside.executor.ReactorFactory;
import dev.ringside.executor.ReactorProvider;
import java.util.Optional;

/** Offers {@link UringReactor} to {@code RawExecutor.createDefault()}: the preferred reactor. */
public final class UringReactorProvider implements ReactorProvider {

    /** For {@link java.util.ServiceLoader}. */
    public UringReactorProvider() {
    }

    @Override
    public String name() {
        return "uring";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Optional<String> unavailabilityCause() {
        return UringReactor.unavailabilityCause();
    }

    @Override
    public ReactorFactory<UringReactor> factory() {
        return UringReactor::new;
    }
}
