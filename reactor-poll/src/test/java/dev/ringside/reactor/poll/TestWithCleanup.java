package dev.ringside.reactor.poll;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/** A test whose executors, sources and descriptors are closed after each test, last first. */
abstract class TestWithCleanup {

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable closeable : cleanup.reversed()) {
            closeable.close();
        }
        cleanup.clear();
    }

    /** Closes {@code closeable} after the test; returns it. */
    <T extends AutoCloseable> T later(T closeable) {
        cleanup.add(closeable);
        return closeable;
    }
}
