package dev.ringside.bench;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the benchmarks and reports ringside against its baselines: {@code bench/run} calls this.
 *
 * <p>Arguments are JMH's own command line (a benchmark regex, {@code -f}, {@code -wi}, {@code -i},
 * {@code -p reactor=...}, ...). Whatever they say, every benchmark is measured as average time in
 * nanoseconds per operation, so that ratios are comparable. The system property
 * {@code ringside.bench.results} names the results directory (default {@code bench/results}); each run
 * writes {@code <timestamp>.json} (JMH's JSON) and {@code <timestamp>.md} (the report) there, copies
 * both to {@code latest.json} and {@code latest.md}, and prints the report.
 *
 * <p>The report pairs, within each benchmark class, every {@link Subject} method's result (for every
 * parameter combination) with each {@link Baseline} method's result, as
 * {@code speed-up = baseline ns/op ÷ ringside ns/op} (above 1: ringside is faster), and checks the
 * targets the annotations declare.
 */
public final class Compare {

    private Compare() {
    }

    public static void main(String[] args) throws IOException, RunnerException {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (commandLine.shouldHelp()) {
            commandLine.showHelp();
            return;
        }
        if (commandLine.shouldList() || commandLine.shouldListWithParams()) {
            new Runner(commandLine).list();
            return;
        }
        Path directory = Path.of(System.getProperty("ringside.bench.results", "bench/results"));
        Files.createDirectories(directory);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path json = directory.resolve(stamp + ".json");
        Options options = new OptionsBuilder()
                .parent(commandLine)
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .resultFormat(ResultFormatType.JSON)
                .result(json.toString())
                .build();
        Collection<RunResult> results = new Runner(options).run();

        String report = report(results, String.join(" ", args));
        Path markdown = directory.resolve(stamp + ".md");
        Files.writeString(markdown, report);
        Files.copy(markdown, directory.resolve("latest.md"), StandardCopyOption.REPLACE_EXISTING);
        if (Files.exists(json)) {
            Files.copy(json, directory.resolve("latest.json"), StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.println();
        System.out.println(report);
        System.out.println("Written: " + markdown + " and " + json);
    }

    /** The markdown report of {@code results}. */
    static String report(Collection<RunResult> results, String arguments) {
        StringBuilder out = new StringBuilder();
        out.append("# ringside benchmarks\n\n");
        out.append(String.format(Locale.ROOT, "%s · JDK %s (%s) · %d CPUs · JMH arguments: `%s`%n%n",
                LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME.withLocale(Locale.ROOT)).substring(0, 19),
                System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Runtime.getRuntime().availableProcessors(), arguments.isEmpty() ? "(none)" : arguments));

        Map<String, List<RunResult>> byClass = new LinkedHashMap<>();
        results.stream()
                .sorted(Comparator.comparing((RunResult r) -> r.getParams().getBenchmark()))
                .forEach(r -> byClass.computeIfAbsent(className(r), k -> new ArrayList<>()).add(r));

        out.append("## Ringside against its baselines\n\n");
        out.append("Speed-up = baseline time per operation ÷ ringside's (above 1: ringside is faster).\n\n");
        out.append("| workload | ringside | ringside ns/op | compared with | its ns/op | speed-up | target | met |\n");
        out.append("|---|---|--:|---|--:|--:|---|---|\n");
        int targets = 0, met = 0;
        for (Map.Entry<String, List<RunResult>> entry : byClass.entrySet()) {
            Class<?> benchmarkClass = load(entry.getKey());
            if (benchmarkClass == null) {
                continue;
            }
            Map<RunResult, Subject> subjects = new LinkedHashMap<>();
            Map<RunResult, Baseline> baselines = new LinkedHashMap<>();
            for (RunResult result : entry.getValue()) {
                Method method = method(benchmarkClass, methodName(result));
                if (method == null) {
                    continue;
                }
                if (method.isAnnotationPresent(Subject.class)) {
                    subjects.put(result, method.getAnnotation(Subject.class));
                } else if (method.isAnnotationPresent(Baseline.class)) {
                    baselines.put(result, method.getAnnotation(Baseline.class));
                }
            }
            for (Map.Entry<RunResult, Subject> measured : subjects.entrySet()) {
                RunResult ringside = measured.getKey();
                Subject subject = measured.getValue();
                double nanos = nanosPerOp(ringside);
                String label = "`" + methodName(ringside) + "` " + params(ringside);
                if (!Double.isNaN(subject.maxNanosPerOp())) {
                    boolean ok = nanos <= subject.maxNanosPerOp();
                    targets++;
                    met += ok ? 1 : 0;
                    out.append(row(subject.workload(), label, score(ringside), "(absolute target)", "", "",
                            "≤ " + number(subject.maxNanosPerOp()) + " ns/op", ok ? "yes" : "**no**"));
                }
                if (Double.isNaN(subject.maxNanosPerOp()) && baselines.isEmpty()) {
                    out.append(row(subject.workload(), label, score(ringside), "(no baseline in this run)", "", "",
                            "—", "—"));
                }
                for (Map.Entry<RunResult, Baseline> baseline : baselines.entrySet()) {
                    double speedup = nanosPerOp(baseline.getKey()) / nanos;
                    double wanted = baseline.getValue().minSpeedup();
                    String target = Double.isNaN(wanted) ? "—" : "≥ " + number(wanted) + "×";
                    String verdict = "—";
                    if (!Double.isNaN(wanted)) {
                        boolean ok = speedup >= wanted;
                        targets++;
                        met += ok ? 1 : 0;
                        verdict = ok ? "yes" : "**no**";
                    }
                    String baselineLabel = baseline.getValue().value() + " (`" + methodName(baseline.getKey()) + "`"
                            + (baseline.getKey().getParams().getParamsKeys().isEmpty() ? "" : " " + params(baseline.getKey()))
                            + ")";
                    out.append(row(subject.workload(), label, score(ringside), baselineLabel, score(baseline.getKey()),
                            String.format(Locale.ROOT, "%.2f×", speedup), target, verdict));
                }
            }
        }
        out.append(String.format(Locale.ROOT, "%nTargets met: %d of %d.%n%n", met, targets));

        out.append("## Every result\n\n");
        out.append("| benchmark | parameters | score | unit |\n|---|---|--:|---|\n");
        for (List<RunResult> list : byClass.values()) {
            for (RunResult result : list) {
                Result<?> primary = result.getPrimaryResult();
                out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", result.getParams().getBenchmark(),
                        params(result), score(result), primary.getScoreUnit()));
            }
        }
        return out.toString();
    }

    private static String row(String... cells) {
        return "| " + String.join(" | ", cells) + " |\n";
    }

    private static String className(RunResult result) {
        String name = result.getParams().getBenchmark();
        return name.substring(0, name.lastIndexOf('.'));
    }

    private static String methodName(RunResult result) {
        String name = result.getParams().getBenchmark();
        return name.substring(name.lastIndexOf('.') + 1);
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, Compare.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return null;
        }
    }

    private static Method method(Class<?> type, String name) {
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name)) {
                return method;
            }
        }
        return null;
    }

    private static String params(RunResult result) {
        BenchmarkParams params = result.getParams();
        return params.getParamsKeys().stream()
                .map(key -> key + "=" + params.getParam(key))
                .collect(Collectors.joining(", "));
    }

    private static double nanosPerOp(RunResult result) {
        Result<?> primary = result.getPrimaryResult();
        if (!"ns/op".equals(primary.getScoreUnit())) {
            throw new IllegalStateException(result.getParams().getBenchmark() + " reports " + primary.getScoreUnit()
                    + ", not ns/op");
        }
        return primary.getScore();
    }

    /** A score with its error (JMH's 99.9% confidence half-width), when there is one. */
    private static String score(RunResult result) {
        Result<?> primary = result.getPrimaryResult();
        String score = number(primary.getScore());
        double error = primary.getScoreError();
        return Double.isNaN(error) ? score : score + " ± " + number(error);
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : "%.1f", value);
    }
}
