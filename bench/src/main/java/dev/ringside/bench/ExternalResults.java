package dev.ringside.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The figures {@code bench/run} measured outside JMH, read from the file the system property
 * {@code ringside.bench.external} names. One figure a line, tab-separated:
 * <pre>
 * key          ns/op        [note]
 * nop batch=32 80.9         enter calls/op 0.031
 * fio qd=1 ... NA           not available: fio is not installed
 * </pre>
 * A figure of {@code NA} means the baseline could not be measured; the note says why. Blank lines and
 * lines starting with {@code #} are ignored.
 */
final class ExternalResults {

    /** One external figure: nanoseconds per operation (NaN if unavailable) and a note. */
    record Figure(double nanosPerOp, String note) {
        boolean available() {
            return !Double.isNaN(nanosPerOp);
        }
    }

    private final Map<String, Figure> figures = new LinkedHashMap<>();

    private ExternalResults() {
    }

    /** The figures of the file named by {@code ringside.bench.external}; none if unset or missing. */
    static ExternalResults load() {
        ExternalResults results = new ExternalResults();
        String file = System.getProperty("ringside.bench.external");
        if (file == null || file.isBlank() || !Files.isRegularFile(Path.of(file))) {
            return results;
        }
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] cells = line.split("\t", 3);
                if (cells.length < 2) {
                    continue;
                }
                double nanos;
                try {
                    nanos = "NA".equals(cells[1].trim()) ? Double.NaN : Double.parseDouble(cells[1].trim());
                } catch (NumberFormatException e) {
                    nanos = Double.NaN;
                }
                results.figures.put(cells[0].trim(), new Figure(nanos, cells.length > 2 ? cells[2].trim() : ""));
            }
        } catch (IOException e) {
            System.err.println("bench: cannot read external results " + file + ": " + e.getMessage());
        }
        return results;
    }

    /** The figure with {@code key}, or null. */
    Figure get(String key) {
        return figures.get(key);
    }

    boolean isEmpty() {
        return figures.isEmpty();
    }

    Map<String, Figure> all() {
        return figures;
    }
}
