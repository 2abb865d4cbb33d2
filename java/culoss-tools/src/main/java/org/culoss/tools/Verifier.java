package org.culoss.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.culoss.Backend;

/** Runs reference cases against a backend: {@code ./culoss verify}. */
public final class Verifier {
    private Verifier() {}

    /** The outcome of one case; {@code detail} says why it failed (or, for a pass, how close it was). */
    public record CaseResult(String name, Path file, boolean passed, String detail) {
        /** {@code PASS name (...)} or {@code FAIL name (file): why}. */
        public String line() {
            return passed ? "PASS " + name + " (" + detail + ")" : "FAIL " + name + " (" + file + "): " + detail;
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
        List<CaseResult> results = new ArrayList<>();
        int passed = 0;
        for (Path file : caseFiles(dir)) {
            CaseResult r = runCase(file, backend);
            results.add(r);
            if (r.passed()) passed++;
            each.accept(r);
        }
        return new Summary(passed, results.size() - passed, results);
    }

    /** Runs one case file; never throws for a bad case or a failing backend: that is a failed result. */
    public static CaseResult runCase(Path file, Backend backend) {
        String name = stem(file);
        try {
            Case c = CaseReader.read(file);
            name = c.name();
            return check(c, backend);
        } catch (CaseException e) {
            return new CaseResult(name, file, false, e.getMessage());
        }
    }

    private static CaseResult check(Case c, Backend backend) {
        LossCase runner = LossCases.forLoss(c.loss());
        if (runner == null) {
            throw new CaseException("unknown loss \"" + c.loss() + "\" (this runner knows " + LossCases.all().keySet() + ")");
        }
        TreeSet<String> unknown = new TreeSet<>(c.params().names());
        unknown.removeAll(runner.params());
        if (!unknown.isEmpty()) {
            throw new CaseException("unknown param " + unknown + " for " + c.loss() + " (it takes "
                    + new TreeSet<>(runner.params()) + ")");
        }
        unknown = new TreeSet<>(c.inputs().keySet());
        unknown.removeAll(runner.inputs());
        if (!unknown.isEmpty()) {
            throw new CaseException("unknown input " + unknown + " for " + c.loss() + " (it takes "
                    + new TreeSet<>(runner.inputs()) + ")");
        }
        TreeSet<String> missing = new TreeSet<>(runner.requiredExpected());
        missing.removeAll(c.expected().keySet());
        if (!missing.isEmpty()) {
            throw new CaseException("expected " + missing + " missing (every " + c.loss() + " case gives "
                    + new TreeSet<>(runner.requiredExpected()) + ")");
        }

        Outputs out;
        try {
            out = runner.run(c, backend);
        } catch (CaseException e) {
            throw e;
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
