package dev.ringside.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * Writes a latency histogram's percentiles from a benchmark fork to the external-results file
 * ({@code ringside.bench.external}, default {@code bench/target/external.tsv}) as one line that
 * {@link ExternalResults} reads: the key, the p50 in nanoseconds, and a note with p99, p99.9, the mean
 * and the count.
 */
final class Latencies {

    private Latencies() {
    }

    static void write(String key, Histogram histogram) {
        if (histogram.getTotalCount() == 0) {
            return;
        }
        String line = String.format(Locale.ROOT, "%s\t%d\tp99 %s, p99.9 %s, mean %s (n=%d)%n", key,
                histogram.getValueAtPercentile(50), micros(histogram.getValueAtPercentile(99)),
                micros(histogram.getValueAtPercentile(99.9)), micros((long) histogram.getMean()),
                histogram.getTotalCount());
        Path file = Path.of(System.getProperty("ringside.bench.external", "bench/target/external.tsv"));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("bench: cannot write " + file + ": " + e.getMessage());
        }
        System.out.print("latency: " + line);
    }

    /** Nanoseconds as microseconds with one decimal ("55.3 µs"), or nanoseconds below a microsecond. */
    static String micros(long nanos) {
        return nanos < 1000 ? nanos + " ns" : String.format(Locale.ROOT, "%.1f µs", nanos / 1000.0);
    }
}
