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
 * targets the annotations declare. A baseline with parameters is paired only with the subject results
 * whose same-named parameters agree; a method may be a subject and another subject's baseline at once.
 *
 * <p>{@link External} baselines (C programs, fio) are read from the file {@code ringside.bench.external}
 * that {@code bench/run} fills before JMH ({@link ExternalResults}); with {@link External#latency()} the
 * subject's HdrHistogram p50 (written there by its fork, {@link Latencies}) is compared instead of JMH's
 * mean. When JMH's {@code -prof gc} ran, the report shows bytes allocated per operation and checks
 * {@link Subject#maxBytesPerOp()}; benchmarks using {@link EnterCounters} show {@code io_uring_enter}
 * calls per operation.
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
        out.append("Allocation (B/op) is JMH's `gc.alloc.rate.norm`, present when the run profiles allocation"
                + " (`bench/run --gc`); enter/op is `io_uring_enter` calls per operation, for io_uring subjects that"
                + " count them. External baselines (C, fio) were measured by `bench/run` just before JMH, on this"
                + " machine.\n\n");
        out.append("| workload | ringside | ringside ns/op | B/op | enter/op | compared with | its ns/op | speed-up | target"
                + " | met |\n");
        out.append("|---|---|--:|--:|--:|---|--:|--:|---|---|\n");
        ExternalResults external = ExternalResults.load();
        Tally tally = new Tally();
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
                // A method may be both: a subject, and the baseline of another subject (epoll for io_uring).
                if (method.isAnnotationPresent(Subject.class)) {
                    subjects.put(result, method.getAnnotation(Subject.class));
                }
                if (method.isAnnotationPresent(Baseline.class)) {
                    baselines.put(result, method.getAnnotation(Baseline.class));
                }
            }
            for (Map.Entry<RunResult, Subject> measured : subjects.entrySet()) {
                RunResult ringside = measured.getKey();
                Subject subject = measured.getValue();
                double nanos = nanosPerOp(ringside);
                String label = "`" + methodName(ringside) + "` " + params(ringside);
                String bytes = allocation(ringside);
                String enters = entersPerOp(ringside);
                if (!Double.isNaN(subject.maxNanosPerOp())) {
                    out.append(row(subject.workload(), label, score(ringside), bytes, enters, "(absolute target)", "",
                            "", "≤ " + number(subject.maxNanosPerOp()) + " ns/op",
                            tally.verdict(nanos <= subject.maxNanosPerOp())));
                }
                if (!Double.isNaN(subject.maxBytesPerOp())) {
                    double allocated = allocationValue(ringside);
                    String verdict = "not measured (add --gc)";
                    if (!Double.isNaN(allocated)) {
                        verdict = tally.verdict(allocated <= subject.maxBytesPerOp());
                    }
                    out.append(row(subject.workload(), label, score(ringside), bytes, enters, "(allocation target)", "",
                            "", "≤ " + number(subject.maxBytesPerOp()) + " B/op", verdict));
                }
                External[] externals = method(benchmarkClass, methodName(ringside)).getAnnotationsByType(External.class);
                for (External baseline : externals) {
                    String key = externalKey(baseline, ringside);
                    ExternalResults.Figure figure = external.get(key);
                    double wanted = target(baseline.targets(), ringside);
                    String target = Double.isNaN(wanted) ? "—" : "≥ " + ratio(wanted) + "×";
                    String baselineLabel = baseline.value() + " (`" + key + "`)";
                    if (figure == null || !figure.available()) {
                        String why = figure == null ? "not measured in this run" : figure.note();
                        out.append(row(subject.workload(), label, score(ringside), bytes, enters, baselineLabel,
                                "not available: " + why, "", target, "—"));
                        continue;
                    }
                    double subjectNanos = nanos;
                    String subjectScore = score(ringside);
                    if (baseline.latency()) {
                        String latencyKey = latencyKey(ringside);
                        ExternalResults.Figure own = external.get(latencyKey);
                        if (own == null || !own.available()) {
                            out.append(row(subject.workload(), label, "p50 not recorded (`" + latencyKey + "`)", bytes,
                                    enters, baselineLabel, "", "", target, "—"));
                            continue;
                        }
                        subjectNanos = own.nanosPerOp();
                        subjectScore = "p50 " + number(own.nanosPerOp()) + " (" + own.note() + "; JMH mean " + score(ringside)
                                + ")";
                    }
                    double speedup = figure.nanosPerOp() / subjectNanos;
                    String verdict = tally.speedupVerdict(speedup, wanted);
                    String its = number(figure.nanosPerOp()) + (figure.note().isEmpty() ? "" : " (" + figure.note() + ")");
                    out.append(row(subject.workload(), label, subjectScore, bytes, enters, baselineLabel, its,
                            String.format(Locale.ROOT, "%.2f×", speedup), target, verdict));
                }
                if (Double.isNaN(subject.maxNanosPerOp()) && externals.length == 0
                        && baselines.keySet().stream().allMatch(b -> methodName(b).equals(methodName(ringside)))) {
                    out.append(row(subject.workload(), label, score(ringside), bytes, enters, "(no baseline in this run)",
                            "", "", "—", "—"));
                }
                for (Map.Entry<RunResult, Baseline> baseline : baselines.entrySet()) {
                    if (!sameSharedParams(ringside, baseline.getKey())
                            || methodName(baseline.getKey()).equals(methodName(ringside))) {
                        continue;
                    }
                    double speedup = nanosPerOp(baseline.getKey()) / nanos;
                    double wanted = target(baseline.getValue().targets(), ringside);
                    if (Double.isNaN(wanted)) {
                        wanted = baseline.getValue().minSpeedup();
                    }
                    String target = Double.isNaN(wanted) ? "—" : "≥ " + ratio(wanted) + "×";
                    String verdict = tally.speedupVerdict(speedup, wanted);
                    String baselineLabel = baseline.getValue().value() + " (`" + methodName(baseline.getKey()) + "`"
                            + (baseline.getKey().getParams().getParamsKeys().isEmpty() ? "" : " " + params(baseline.getKey()))
                            + ")";
                    out.append(row(subject.workload(), label, score(ringside), bytes, enters, baselineLabel,
                            score(baseline.getKey()),
                            String.format(Locale.ROOT, "%.2f×", speedup), target, verdict));
                }
            }
        }
        out.append(String.format(Locale.ROOT, "%nTargets met: %d of %d.%n%n", tally.met, tally.targets));

        if (!external.isEmpty()) {
            out.append("## External baselines (measured by bench/run)\n\n| key | ns/op | note |\n|---|--:|---|\n");
            external.all().forEach((key, figure) -> out.append(row("`" + key + "`",
                    figure.available() ? number(figure.nanosPerOp()) : "NA", figure.note()).stripTrailing() + "\n"));
            out.append("\n");
        }

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

    /** The key of {@code baseline}'s external figure for {@code result}'s parameters. */
    private static String externalKey(External baseline, RunResult result) {
        StringBuilder key = new StringBuilder(baseline.key());
        for (String name : baseline.params()) {
            key.append(' ').append(name).append('=').append(result.getParams().getParam(name));
        }
        return key.toString();
    }

    /** The key under which {@link Latencies} recorded {@code result}'s percentiles. */
    private static String latencyKey(RunResult result) {
        String name = result.getParams().getBenchmark();
        StringBuilder key = new StringBuilder("latency ").append(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1));
        result.getParams().getParamsKeys().stream().sorted()
                .forEach(k -> key.append(' ').append(k).append('=').append(result.getParams().getParam(k)));
        return key.toString();
    }

    /** Whether the parameters {@code a} and {@code b} both have are equal. */
    private static boolean sameSharedParams(RunResult a, RunResult b) {
        for (String key : a.getParams().getParamsKeys()) {
            String other = b.getParams().getParam(key);
            if (other != null && !other.equals(a.getParams().getParam(key))) {
                return false;
            }
        }
        return true;
    }

    /** Targets checked and met in a report; each check gives the table's verdict. */
    private static final class Tally {
        int targets, met;

        String verdict(boolean ok) {
            targets++;
            met += ok ? 1 : 0;
            return ok ? "yes" : "**no**";
        }

        /** "—" when there is no target ({@code wanted} NaN), else whether {@code speedup} reaches it. */
        String speedupVerdict(double speedup, double wanted) {
            return Double.isNaN(wanted) ? "—" : verdict(speedup >= wanted);
        }
    }

    /** The first of {@code targets} ("name=value,...:speedup") matching {@code result}'s parameters; NaN for none. */
    private static double target(String[] targets, RunResult result) {
        for (String target : targets) {
            int colon = target.lastIndexOf(':');
            String condition = target.substring(0, colon).trim();
            boolean matches = true;
            if (!condition.isEmpty()) {
                for (String pair : condition.split(",")) {
                    String[] nameValue = pair.trim().split("=", 2);
                    String actual = result.getParams().getParam(nameValue[0]);
                    matches &= nameValue.length == 2 && nameValue[1].equals(actual);
                }
            }
            if (matches) {
                return Double.parseDouble(target.substring(colon + 1).trim());
            }
        }
        return Double.NaN;
    }

    /** Bytes allocated per operation ({@code -prof gc}), or NaN when not profiled. */
    private static double allocationValue(RunResult result) {
        Result<?> norm = result.getSecondaryResults().get("gc.alloc.rate.norm");
        return norm == null ? Double.NaN : norm.getScore();
    }

    private static String allocation(RunResult result) {
        Result<?> norm = result.getSecondaryResults().get("gc.alloc.rate.norm");
        if (norm == null) {
            return "";
        }
        double error = norm.getScoreError();
        return number(norm.getScore()) + (Double.isNaN(error) ? "" : " ± " + number(error));
    }

    /** {@code io_uring_enter} calls per operation from {@link EnterCounters}, or blank. */
    private static String entersPerOp(RunResult result) {
        Result<?> enters = result.getSecondaryResults().get("enterCalls");
        Result<?> operations = result.getSecondaryResults().get("operations");
        if (enters == null || operations == null || operations.getScore() <= 0) {
            return "";
        }
        return String.format(Locale.ROOT, "%.3f", enters.getScore() / operations.getScore());
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

    /** A ratio or factor with up to two decimals: 0.85, 0.9, 3. */
    private static String ratio(double value) {
        return java.math.BigDecimal.valueOf(value).setScale(2, java.math.RoundingMode.HALF_UP).stripTrailingZeros()
                .toPlainString();
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : "%.1f", value);
    }
}
