package org.culoss.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.CulossException;
import org.culoss.Declarations.Workload;
import org.culoss.tools.bench.Shape;
import org.culoss.tools.bench.Timing;
import org.culoss.tools.bench.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bench}: fused forward+backward of a loss on a backend's own memory (device buffers:
 * off-heap for java), a warm-up, then the median of many timed calls; one line per case.
 */
@Command(name = "bench",
        description = {"Times fused forward+backward of a loss: a warm-up, then the median of many calls.",
                "Buffers live in the backend's memory (device memory for cuda, off-heap for java); each timed "
                        + "call ends in a synchronisation.",
                "gbps: the bytes that must move (inputs read once, outputs written once) over the median time.",
                "Exit status: 0 done, 2 bad arguments or unusable backend."})
final class BenchCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--loss", paramLabel = "NAME", split = ",", defaultValue = "softmax_cross_entropy",
            description = "Losses (comma-separated, or all; default: ${DEFAULT-VALUE}).")
    List<String> losses;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "java, cuda or emulated (default: the fastest available).")
    String backendName;

    @Option(names = "--shape", paramLabel = "SHAPE", split = ",",
            description = "Shapes such as 4096x1000 (comma-separated; default: each loss's benchmark shapes).")
    List<String> shapes;

    @Option(names = "--threads", paramLabel = "T", split = ",",
            description = "java backend threads (comma-separated; default: all cores, ${sys:culoss.cores}).")
    List<Integer> threads;

    @Option(names = "--warmup-ms", paramLabel = "MS", defaultValue = "500",
            description = "Warm-up time per case (default: ${DEFAULT-VALUE} ms).")
    long warmupMillis;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "30",
            description = "Timed calls per case (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--json", description = "One JSON object per line: loss, backend, shape, threads, median_ms, "
            + "min_ms, runs, bytes, gbps.")
    boolean json;

    static {
        System.setProperty("culoss.cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Case> cases;
        try {
            cases = cases();
        } catch (IllegalArgumentException | CulossException e) {
            err.println("culoss bench: " + e.getMessage());
            return 2;
        }
        for (Case c : cases) {
            Timing t;
            long bytes;
            try (Workload w = Workloads.create(c.loss, c.shape, c.backend)) {
                t = Timing.of(w, warmupMillis, runs);
                bytes = w.bytesMoved();
            } catch (IllegalArgumentException | CulossException | OutOfMemoryError e) {
                // A shape too large for the backend or the machine: say which, not a stack trace.
                err.println("culoss bench: " + c.loss + " " + c.shape + " on " + c.backend.name() + ": " + e.getMessage());
                return 2;
            }
            out.println(json ? jsonLine(c, t, bytes) : textLine(c, t, bytes));
            out.flush();
        }
        return 0;
    }

    private record Case(String loss, Shape shape, Backend backend, Integer threads) {}

    private List<Case> cases() {
        if (runs < 1) throw new IllegalArgumentException("--runs (" + runs + ") must be at least 1");
        if (warmupMillis < 0) throw new IllegalArgumentException("--warmup-ms (" + warmupMillis + ") is negative");
        List<String> names = losses.contains("all") ? Workloads.losses() : losses;
        String name = backendName != null ? backendName : Culoss.fastest().name();
        boolean java = name.equals("java");
        List<Integer> threadCounts = threads != null ? threads : List.of(Runtime.getRuntime().availableProcessors());
        if (!java && threads != null) throw new IllegalArgumentException("--threads is for the java backend only");
        List<Backend> backends = new ArrayList<>();
        for (int t : java ? threadCounts : List.of(0)) {
            if (java && t < 1) throw new IllegalArgumentException("--threads (" + t + ") must be at least 1");
            backends.add(java ? Culoss.java(t) : Culoss.backend(name));
        }
        List<Case> cases = new ArrayList<>();
        for (String loss : names) {
            List<String> shapeTexts = shapes != null ? shapes : Workloads.defaultShapes(loss);
            for (String s : shapeTexts) {
                Shape shape = Workloads.shape(loss, s);
                for (int i = 0; i < backends.size(); i++) {
                    cases.add(new Case(loss, shape, backends.get(i), java ? threadCounts.get(i) : null));
                }
            }
        }
        return cases;
    }

    private static String textLine(Case c, Timing t, long bytes) {
        return String.format(Locale.ROOT, "%-22s %-12s %-8s %-10s median %9.4f ms  min %9.4f ms  %8.2f GB/s  (%d runs)",
                c.loss, c.shape, c.backend.name(), c.threads == null ? "" : "threads=" + c.threads,
                t.medianMillis(), t.minMillis(), t.gigabytesPerSecond(bytes), t.runs());
    }

    private static String jsonLine(Case c, Timing t, long bytes) {
        ObjectNode o = JSON.createObjectNode();
        o.put("loss", c.loss);
        o.put("backend", c.backend.name());
        o.put("shape", c.shape.toString());
        if (c.threads == null) o.putNull("threads");
        else o.put("threads", c.threads);
        o.put("median_ms", t.medianMillis());
        o.put("min_ms", t.minMillis());
        o.put("runs", t.runs());
        o.put("bytes", bytes);
        o.put("gbps", t.gigabytesPerSecond(bytes));
        return o.toString();
    }
}
