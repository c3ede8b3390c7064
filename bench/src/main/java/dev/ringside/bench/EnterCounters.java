package dev.ringside.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary results of an io_uring benchmark: {@code io_uring_enter} calls and operations done in an
 * iteration (JMH sums them as events), from which {@link Compare} reports enter calls per operation.
 * A benchmark adds to both on its loop thread after each invocation.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class EnterCounters {
    /** {@code io_uring_enter} calls in this iteration. */
    public long enterCalls;
    /** Operations (NOPs, reads) in this iteration. */
    public long operations;

    @Setup(Level.Iteration)
    public void reset() {
        enterCalls = 0;
        operations = 0;
    }

    void add(long enters, long ops) {
        enterCalls += enters;
        operations += ops;
    }
}
