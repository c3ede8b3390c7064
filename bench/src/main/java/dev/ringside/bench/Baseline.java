package dev.ringside.bench;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a benchmark method that does its class's {@link Subject} work without ringside, on the same
 * machine in the same run: what ringside is compared with.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Baseline {

    /** How the report names this baseline. */
    String value();

    /**
     * The target: ringside must be at least this many times as fast (baseline time per operation over
     * ringside's); NaN for none (a floor that ringside cannot beat, say).
     */
    double minSpeedup() default Double.NaN;

    /**
     * Targets for some of the subject's parameter combinations only, each
     * {@code "name=value,name=value:minSpeedup"} (e.g. {@code "qd=32,direct=true:3"}); the first that
     * matches the subject's parameters wins over {@link #minSpeedup()}.
     *
     * <p>A baseline with parameters is compared only with the subject results whose parameters of the
     * same names have the same values.
     */
    String[] targets() default {};
}
