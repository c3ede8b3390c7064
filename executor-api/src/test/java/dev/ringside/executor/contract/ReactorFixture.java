package dev.ringside.executor.contract;

import dev.ringside.executor.IoSource;
import dev.ringside.executor.RawExecutor;
import dev.ringside.executor.Reactor;
import java.io.IOException;
import java.util.function.UnaryOperator;

/**
 * What a reactor's test provides so the contract suite can run against it: executors, pipes and files.
 * Everything it returns is owned by the test and closed by it.
 */
public interface ReactorFixture<R extends Reactor> {

    /** A new executor on a new reactor of the kind under test. */
    default RawExecutor<R> newExecutor() throws IOException {
        return newExecutor(UnaryOperator.identity());
    }

    /** A new executor on a new reactor of the kind under test, with {@code settings} applied to its builder. */
    RawExecutor<R> newExecutor(UnaryOperator<RawExecutor.Builder<R>> settings) throws IOException;

    /** A new pipe whose ends are sources of {@code executor}; empty, with room for at least 4096 bytes. */
    PipeEnds newPipe(RawExecutor<R> executor) throws IOException;

    /** A new regular file holding {@code contents}, opened for reading and writing as a source. */
    FileUnderTest newFile(RawExecutor<R> executor, byte[] contents) throws IOException;

    /** Fills the pipe so that the next write of one byte has to wait for a read. */
    void fill(PipeEnds pipe) throws IOException;

    /** Whether the reactor's clock is virtual (sleeps take no wall time). */
    default boolean virtualTime() {
        return false;
    }

    /**
     * Whether the executor's loop may run on a thread other than the first that ran it, and be drained
     * by a {@code close()} on another thread while it idles (default true). A reactor bound to one
     * thread answers false (io_uring with {@code SINGLE_ISSUER}); where a test moves the loop, the
     * suite then expects the documented refusal, an {@link IllegalStateException} before the reactor
     * is touched, and carries on on the bound thread.
     */
    default boolean loopMayMoveBetweenThreads() {
        return true;
    }

    /** The two ends of a pipe. */
    record PipeEnds(IoSource readEnd, IoSource writeEnd) implements AutoCloseable {
        @Override
        public void close() {
            readEnd.close();
            writeEnd.close();
        }
    }

    /** A file as a source, and a way to look at its bytes from outside the executor. */
    interface FileUnderTest extends AutoCloseable {
        IoSource source();

        byte[] contents() throws IOException;

        @Override
        default void close() {
            source().close();
        }
    }
}
