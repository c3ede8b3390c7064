package dev.ringside.executor;

import dev.ringside.executor.fake.FakeReactor;
import java.util.Optional;

/** Providers registered for executor-api's own tests only (excluded from the test-jar). */
public final class TestReactorProviders {
    private TestReactorProviders() {
    }

    /** Preferred, but its probe refuses. */
    public static final class Refusing implements ReactorProvider {
        public Refusing() {
        }

        @Override
        public String name() {
            return "refusing";
        }

        @Override
        public int priority() {
            return 100;
        }

        @Override
        public Optional<String> unavailabilityCause() {
            return Optional.of("the probe says no");
        }

        @Override
        public ReactorFactory<? extends Reactor> factory() {
            return () -> {
                throw new AssertionError("an unavailable provider's factory must not be called");
            };
        }
    }

    /** The fallback. */
    public static final class Fake implements ReactorProvider {
        public Fake() {
        }

        @Override
        public String name() {
            return "fake";
        }

        @Override
        public int priority() {
            return 1;
        }

        @Override
        public Optional<String> unavailabilityCause() {
            return Optional.empty();
        }

        @Override
        public ReactorFactory<? extends Reactor> factory() {
            return FakeReactor::new;
        }
    }
}
