package dev.ringside.executor;

import java.util.Optional;

/**
 * A reactor implementation that {@link RawExecutor#createDefault()} can choose, found with
 * {@link java.util.ServiceLoader} on the module path ({@code provides}) and on the class path
 * ({@code META-INF/services}).
 *
 * <p>The default factory tries the available providers from the highest {@link #priority()} down.
 * The system property {@value #SELECTION_PROPERTY} forces one by {@link #name()}.
 */
public interface ReactorProvider {

    /** System property naming the provider {@link RawExecutor#createDefault()} must use. */
    String SELECTION_PROPERTY = "ringside.reactor";

    /** Short name, e.g. {@code "uring"} or {@code "epoll"}; what {@value #SELECTION_PROPERTY} matches. */
    String name();

    /** Higher is preferred. */
    int priority();

    /**
     * Why this reactor cannot work in this process, from a real probe; empty when it can. May be
     * expensive the first time; implementations cache the answer.
     */
    Optional<String> unavailabilityCause();

    /** The factory creating this provider's reactor. */
    ReactorFactory<? extends Reactor> factory();
}
