package org.culoss.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.culoss.Backend;
import org.culoss.Declarations;
import org.culoss.Declarations.Layout;

/** Runs reference cases against a backend: {@code ./culoss verify}. */
public final class Verifier {
    private Verifier() {}

    /** The outcome of one case; {@code detail} says why it failed (or, for a pass, how close it was). */
    public record CaseResult(String name, Path file, boolean passed, String detail) {
        /**
         * {@code PASS name (...)} or {@code FAIL name (file): why}, on one line: the name, the file
         * and the detail (which quotes the case's own strings) are escaped ({@link Printable}).
         */
        public String line() {
            String n = Printable.escape(name);
            String d = Printable.escape(detail);
            return passed ? "PASS " + n + " (" + d + ")" : "FAIL " + n + " (" + Printable.escape(String.valueOf(file))
                    + "): " + d;
        }
    }

    /** All the cases of one run. */
    public record Summary(int passed, int failed, List<CaseResult> results) {
        /** Exactly {@code N passed, M failed}. */
        public String line() {
            return passed + " passed, " + failed + " failed";
        }
    }

    /** Every {@code *.json} under {@code dir} (recursively), sorted by relative path; or {@code dir} itself if it is a file. */
    public static List<Path> caseFiles(Path dir) throws IOException {
        if (Files.isRegularFile(dir)) return List.of(dir);
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".json"))
                    .sorted(Comparator.comparing(p -> dir.relativize(p).toString()))
                    .collect(Collectors.toList());
        }
    }

    /** Runs every case under {@code dir} on {@code backend}, handing each result to {@code each} as it finishes. */
    public static Summary verify(Path dir, Backend backend, Consumer<CaseResult> each) throws IOException {
        return verify(dir, backend, List.of(Layout.ARRAYS), each);
    }

    /** The same, each case once per layout (named {@code case [layout]} past the first). */
    public static Summary verify(Path dir, Backend backend, List<Layout> layouts, Consumer<CaseResult> each)
            throws IOException {
        List<CaseResult> results = new ArrayList<>();
        int passed = 0;
        for (Path file : caseFiles(dir)) {
            for (Layout layout : layouts) {
                CaseResult r = runCase(file, backend, layout);
                results.add(r);
                if (r.passed()) passed++;
                each.accept(r);
            }
        }
        return new Summary(passed, results.size() - passed, results);
    }

    /** Runs one case file; never throws for a bad case or a failing backend: that is a failed result. */
    public static CaseResult runCase(Path file, Backend backend) {
        return runCase(file, backend, Layout.ARRAYS);
    }

    /**
     * Runs one case file with its tensors placed as {@code layout} says. Whatever goes wrong is
     * this case's failure, out of memory included (a huge case under a small heap): the cases
     * after it still run and the summary line still prints.
     */
    public static CaseResult runCase(Path file, Backend backend, Layout layout) {
        return runCase(file, backend, layout, CaseReader.MAX_CASE_BYTES);
    }

    /** The same, refusing files over {@code maxCaseBytes}. */
    static CaseResult runCase(Path file, Backend backend, Layout layout, long maxCaseBytes) {
        String name = stem(file);
        try {
            Case c = CaseReader.read(file, maxCaseBytes);
            name = c.name() + (layout == Layout.ARRAYS ? "" : " [" + layoutName(layout) + "]");
            CaseResult r = check(c, backend, layout);
            return new CaseResult(name, r.file(), r.passed(), r.detail());
        } catch (CaseException e) {
            return new CaseResult(name, file, false, e.getMessage());
        } catch (OutOfMemoryError e) {
            // What the case held is garbage once this returns: the run goes on.
            return new CaseResult(name, file, false, "out of memory reading or running the case (" + e.getMessage()
                    + "); a larger -Xmx may run it");
        } catch (RuntimeException e) {
            return new CaseResult(name, file, false, "the runner threw " + e);
        }
    }

    /** The layouts by the names {@code --layout} takes: arrays, heap, direct, swapped, device. */
    public static String layoutName(Layout layout) {
        return switch (layout) {
            case ARRAYS -> "arrays";
            case HEAP_POSITION -> "heap";
            case DIRECT_UNALIGNED -> "direct";
            case DIRECT_SWAPPED -> "swapped";
            case DEVICE -> "device";
        };
    }

    /**
     * One runner for every loss: the loss's declaration says which parameters, inputs and
     * expected tensors a case may give, and runs it (forward and every gradient in one call, then
     * each in-place operation, such as the center update, on a copy).
     */
    private static CaseResult check(Case c, Backend backend, Layout layout) {
        String loss = c.loss();
        if (!Declarations.has(loss)) {
            throw new CaseException("unknown loss \"" + loss + "\" (this runner knows " + Declarations.names() + ")");
        }
        TreeSet<String> unknown = new TreeSet<>(c.params().names());
        unknown.removeAll(Declarations.params(loss));
        if (!unknown.isEmpty()) {
            throw new CaseException("unknown param " + unknown + " for " + loss + " (it takes "
                    + new TreeSet<>(Declarations.params(loss)) + ")");
        }
        unknown = new TreeSet<>(c.inputs().keySet());
        unknown.removeAll(Declarations.inputs(loss));
        if (!unknown.isEmpty()) {
            throw new CaseException("unknown input " + unknown + " for " + loss + " (it takes "
                    + new TreeSet<>(Declarations.inputs(loss)) + ")");
        }
        TreeSet<String> missing = new TreeSet<>(Declarations.requiredOutputs(loss));
        missing.removeAll(c.expected().keySet());
        if (!missing.isEmpty()) {
            throw new CaseException("expected " + missing + " missing (every " + loss + " case gives "
                    + new TreeSet<>(Declarations.requiredOutputs(loss)) + ")");
        }

        Map<String, Object> params = new LinkedHashMap<>();
        for (String name : c.params().names()) params.put(name, c.params().value(name));
        Map<String, Declarations.Array> inputs = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : c.inputs().entrySet()) {
            Tensor t = e.getValue();
            inputs.put(e.getKey(), Declarations.intInput(loss, e.getKey())
                    ? Declarations.Array.ofInts(t.shape(), t.toInts("inputs." + e.getKey()))
                    : Declarations.Array.ofFloats(t.shape(), t.toFloats()));
        }
        Declarations.Prepared prepared;
        try {
            prepared = Declarations.prepare(loss, backend, params, inputs);
        } catch (IllegalArgumentException e) {
            throw new CaseException(e.getMessage());
        }
        Outputs out;
        try {
            Declarations.Evaluation ev = prepared.run(layout);
            out = new Outputs(ev.terms());
            ev.outputs().forEach((name, a) -> out.put(name, a.shape(), a.floats()));
        } catch (RuntimeException e) {
            return new CaseResult(c.name(), c.file(), false, "backend " + backend.name() + " threw " + e);
        }

        List<String> problems = new ArrayList<>();
        double worst = 0;
        for (Map.Entry<String, Tensor> e : c.expected().entrySet()) {
            Tensor produced = out.tensors().get(e.getKey());
            if (produced == null) {
                problems.add(e.getKey() + ": the backend cannot produce it (it gives " + out.tensors().keySet() + ")");
                continue;
            }
            Tolerance.Comparison cmp = Tolerance.compare(produced, e.getValue(), out.terms());
            if (!cmp.passed()) {
                problems.add(e.getKey() + ": " + cmp.problem());
            } else {
                worst = Math.max(worst, cmp.relativeError());
            }
        }
        if (!problems.isEmpty()) return new CaseResult(c.name(), c.file(), false, String.join("; ", problems));
        return new CaseResult(c.name(), c.file(), true, String.format("largest relative error %.1e", worst));
    }

    private static String stem(Path file) {
        String f = file.getFileName().toString();
        return f.endsWith(".json") ? f.substring(0, f.length() - 5) : f;
    }
}
