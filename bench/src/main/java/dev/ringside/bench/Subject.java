package dev.ringside.bench;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a benchmark method that measures ringside; the {@link Baseline} methods of its class do the
 * same work another way, and {@link Compare} reports each as a ratio against it. A class may have
 * several subjects (variants of the ringside side).
 * Every benchmark of a compared class reports nanoseconds per operation (JMH average time).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Subject {

    /** What one operation is, as the report's workload column names it. */
    String workload();

    /** The target: at most this many nanoseconds per operation; NaN for none. */
    double maxNanosPerOp() default Double.NaN;

    /**
     * The target: at most this many bytes allocated per operation, checked when the run profiles
     * allocation ({@code bench/run --gc}, JMH's {@code -prof gc}: {@code gc.alloc.rate.norm}); NaN for none.
     */
    double maxBytesPerOp() default Double.NaN;
}
