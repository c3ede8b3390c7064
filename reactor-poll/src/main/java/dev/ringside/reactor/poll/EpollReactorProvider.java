package dev.ringside.reactor.poll;

import dev.ringside.executor.ReactorFactory;
import dev.ringside.executor.ReactorProvider;
import java.util.Optional;

/** Offers {@link EpollReactor} to {@code RawExecutor.createDefault()}: the fallback when io_uring is unavailable. */
public final class EpollReactorProvider implements ReactorProvider {

    /** For {@link java.util.ServiceLoader}. */
    public EpollReactorProvider() {
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Optional<String> unavailabilityCause() {
        return EpollReactor.unavailabilityCause();
    }

    @Override
    public ReactorFactory<EpollReactor> factory() {
        return EpollReactor::new;
    }
}
