package dev.ringside.executor;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ringside.executor.fake.FakeReactor;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Reactor selection by {@link RawExecutor#createDefault()}, with this module's test providers. */
class CreateDefaultTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(ReactorProvider.SELECTION_PROPERTY);
    }

    @Test
    void skipsAProviderWhoseProbeRefusesAndFallsBack() throws IOException {
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(FakeReactor.class, executor.reactor());
        }
    }

    @Test
    void aForcedProviderThatIsUnavailableFailsWithItsReason() {
        System.setProperty(ReactorProvider.SELECTION_PROPERTY, "refusing");
        IOException failure = assertThrows(IOException.class, RawExecutor::createDefault);
        assertTrue(failure.getMessage().contains("the probe says no"), failure.getMessage());
        assertTrue(failure.getMessage().contains("-Dringside.reactor=refusing"), failure.getMessage());
    }

    @Test
    void aForcedProviderIsUsed() throws IOException {
        System.setProperty(ReactorProvider.SELECTION_PROPERTY, "fake");
        try (RawExecutor<?> executor = RawExecutor.createDefault()) {
            assertInstanceOf(FakeReactor.class, executor.reactor());
        }
    }

    @Test
    void anUnknownForcedNameFailsClearly() {
        System.setProperty(ReactorProvider.SELECTION_PROPERTY, "kqueue");
        IOException failure = assertThrows(IOException.class, RawExecutor::createDefault);
        assertTrue(failure.getMessage().contains("no ReactorProvider is named kqueue"), failure.getMessage());
    }
}
