package dev.ringside.bench;

import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A baseline measured outside JMH (a C program, fio) in the same {@code bench/run}, paired with the
 * {@link Subject} method it marks. {@code bench/run} writes the external figures to a file (see
 * {@link ExternalResults}); each line has a key such as {@code nop batch=32}: {@link #key()} followed by
 * the subject's values of {@link #params()}, in order.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(External.List.class)
public @interface External {

    /** How the report names this baseline. */
    String value();

    /** The first word of the external figure's key. */
    String key();

    /** The subject's parameters that complete the key, e.g. {@code {"batch"}}. */
    String[] params() default {};

    /**
     * Targets per parameter combination, each {@code "name=value,name=value:minSpeedup"} (a combination
     * not listed has no target), e.g. {@code "batch=32:0.85"}; {@code ":0.9"} applies to every one.
     */
    String[] targets() default {};

    /**
     * Whether the comparison is of latency percentiles rather than of JMH's mean: the subject's figure
     * is then the p50 its fork wrote with {@link Latencies} (key {@code latency <Class>.<method>
     * <name=value ...>}, parameters in name order), compared with this baseline's p50.
     */
    boolean latency() default false;

    /** The container of repeated {@link External} annotations. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface List {
        External[] value();
    }
}
