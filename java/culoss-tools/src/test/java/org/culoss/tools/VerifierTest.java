package org.culoss.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.Declarations.Layout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * The verify runner over the project's reference vectors on every backend this JVM can use, and
 * the runner's own contract: a wrong case fails, it never passes.
 */
class VerifierTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A real case, copied and altered by the tests below. */
    private static final String SAMPLE = "softmax_cross_entropy/ce_mean_plain_c5.json";

    @TempDir
    Path tmp;

    static Path vectors() {
        String p = System.getProperty("culoss.vectors");
        return Path.of(p != null ? p : "../../conformance");
    }

    // ------------------------------------------------------------ the reference vectors

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"java", "emulated", "cuda"})
    void everyReferenceCasePassesInEveryLayout(String name) throws IOException {
        Throwable cause = Culoss.unavailabilityCause(name);
        if (name.equals("emulated") && "emulated".equals(System.getProperty("culoss.native"))) {
            // This JVM was started for the emulated backend: it must load, not be skipped.
            assertNull(cause, () -> "emulated backend does not load in the emulated JVM: " + cause);
        }
        assumeTrue(cause == null, () -> name + " is not usable in this JVM: " + cause.getMessage());
        Backend backend = Culoss.backend(name);
        // Arrays, heap buffers from a position, unaligned direct buffers, direct buffers in the other
        // byte order and backend memory: each way a caller reaches a loss gives the same values.
        // A native backend leaves out the heap buffers from a position and the byte-swapped direct
        // buffers: the loss classes slice a buffer at its position before any backend sees it (the
        // java backend runs them here), and a native backend stages a heap slice or a buffer not in
        // the native byte order by the same copy as an array (Staging: only a direct buffer in the
        // native order is read in place), which ARRAYS runs.
        List<Layout> layouts = new ArrayList<>(List.of(Layout.values()));
        if (!name.equals("java")) {
            layouts.remove(Layout.HEAP_POSITION);
            layouts.remove(Layout.DIRECT_SWAPPED);
        }
        if (name.equals("emulated")) {
            everyCaseInOneLayout(backend, layouts);
            return;
        }
        Verifier.Summary s = Verifier.verify(vectors(), backend, layouts, r -> { });
        String failures = s.results().stream().filter(r -> !r.passed()).map(Verifier.CaseResult::line)
                .collect(Collectors.joining("\n"));
        assertEquals(0, s.failed(), () -> name + ": " + s.line() + "\n" + failures);
        assertTrue(s.passed() >= layouts.size() * 40, () -> "only " + s.passed() + " case runs under " + vectors());
    }

    /**
     * The emulated backend runs each case once, the layouts taken in turn within each loss's
     * folder, so that every loss meets every layout: a layout's staging is the same code for every
     * case of a loss, and the emulator (CPU threads standing for GPU threads) is slow enough that
     * three runs of each case would cost a minute of CI for nothing the turn-taking misses.
     */
    private static void everyCaseInOneLayout(Backend backend, List<Layout> layouts) throws IOException {
        Map<Path, Integer> turns = new HashMap<>();
        Map<Path, Set<Layout>> seen = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int runs = 0;
        for (Path file : Verifier.caseFiles(vectors())) {
            Path folder = file.getParent();
            int turn = turns.merge(folder, 1, Integer::sum) - 1;
            Layout layout = layouts.get(turn % layouts.size());
            seen.computeIfAbsent(folder, f -> EnumSet.noneOf(Layout.class)).add(layout);
            Verifier.CaseResult r = Verifier.runCase(file, backend, layout);
            runs++;
            if (!r.passed()) failures.add(r.line());
        }
        assertEquals(List.of(), failures, "emulated");
        int total = runs;
        assertTrue(total >= 40, () -> "only " + total + " case runs under " + vectors());
        seen.forEach((folder, got) -> {
            if (turns.get(folder) >= layouts.size())
                assertEquals(EnumSet.copyOf(layouts), got, () -> folder + ": layouts run");
        });
    }

    // ------------------------------------------------------------ the runner fails what is wrong

    /** A change to the sample case. */
    interface Alteration {
        void apply(ObjectNode c) throws IOException;
    }

    static Stream<Arguments> validSamples() {
        return Stream.of(
                Arguments.of("unaltered", (Alteration) c -> { }),
                Arguments.of("dtype float32 stated", (Alteration) c -> c.put("dtype", "float32")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validSamples")
    void validSamplePasses(String name, Alteration alteration) throws IOException {
        ObjectNode c = sample();
        alteration.apply(c);
        Verifier.CaseResult r = run(c);
        assertTrue(r.passed(), r.line());
    }

    /**
     * A wrong case: (name, the change, whether the failure's line must name the file, what its
     * detail must say).
     */
    static Stream<Arguments> wrongSamples() {
        return Stream.of(
                wrong("perturbed expected value", c -> {
                    ArrayNode grad = (ArrayNode) obj(obj(c, "expected"), "grad_logits").get("data");
                    grad.set(3, JSON.getNodeFactory().numberNode(grad.get(3).asDouble() * 1.001 + 1e-3));
                }, false, d -> d.contains("grad_logits") && d.contains("relative error")),
                wrong("perturbed loss", c -> {
                    ArrayNode loss = (ArrayNode) obj(obj(c, "expected"), "loss").get("data");
                    loss.set(0, JSON.getNodeFactory().numberNode(loss.get(0).asDouble() * (1 + 1e-4)));
                }, false, d -> d.startsWith("loss:")),
                wrong("unknown loss", c -> c.put("loss", "softmax_cross_entropy_v2"), true,
                        d -> d.contains("unknown loss \"softmax_cross_entropy_v2\"")),
                wrong("unknown param", c -> obj(c, "params").put("labelsmoothing", 0.1), true,
                        d -> d.contains("unknown param [labelsmoothing]")),
                wrong("unknown top-level field", c -> c.put("comment", "a typo of a field the runner would have ignored"),
                        true, d -> d.contains("unknown field \"comment\"")),
                wrong("half precision", c -> c.put("dtype", "bfloat16"), false, d -> d.contains("bfloat16")),
                wrong("unknown input", c -> obj(c, "inputs").set("class_weight", tensor(new int[] {5}, 1, 1, 1, 1, 1)),
                        false, d -> d.contains("unknown input [class_weight]")),
                wrong("missing expected tensor", c -> obj(c, "expected").remove("grad_logits"), false,
                        d -> d.contains("[grad_logits] missing")),
                wrong("expected tensor the backend cannot produce",
                        c -> obj(c, "expected").set("grad_targets", tensor(new int[] {1}, 0)), false,
                        d -> d.contains("grad_targets: the backend cannot produce it")),
                wrong("wrong expected shape", c -> {
                    double loss = obj(obj(c, "expected"), "loss").get("data").get(0).asDouble();
                    obj(c, "expected").set("loss", tensor(new int[] {1}, loss));  // [] for a mean
                }, false, d -> d.contains("shape")),
                wrong("an unbatched target beside batched logits", c -> obj(c, "inputs").set("targets",
                        tensor(new int[] {}, 1)), false, d -> d.contains("inputs.targets is unbatched (shape [])")
                        && d.contains("inputs.logits is not")),
                wrong("invalid target (a failure, not an exception)", c -> ((ArrayNode) obj(obj(c, "inputs"), "targets").get("data"))
                        .set(0, JSON.getNodeFactory().numberNode(7)), false, d -> d.contains("INVALID_TARGET")));
    }

    private static Arguments wrong(String name, Alteration alteration, boolean namesFile, Predicate<String> detail) {
        return Arguments.of(name, alteration, namesFile, detail);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongSamples")
    void wrongSampleFails(String name, Alteration alteration, boolean namesFile, Predicate<String> detail)
            throws IOException {
        ObjectNode c = sample();
        alteration.apply(c);
        Verifier.CaseResult r = run(c);
        assertFalse(r.passed(), r.line());
        assertTrue(detail.test(r.detail()), r.detail());
        if (namesFile) assertTrue(r.line().contains("case.json"), r.line());
    }

    @Test
    void malformedJsonFailsNamingTheFile() throws IOException {
        Path f = tmp.resolve("broken.json");
        Files.writeString(f, "{\"loss\": \"softmax_cross_entropy\", ");
        Verifier.CaseResult r = Verifier.runCase(f, Culoss.java());
        assertFalse(r.passed());
        assertTrue(r.line().startsWith("FAIL broken (") && r.line().contains("broken.json"), r.line());
    }

    // ------------------------------------------------------------ numbers written as strings

    @Test
    void numbersAsStringsAndInfinities() throws IOException {
        // Two classes, equal logits: loss ln 2, gradient (p - onehot) = [-0.5, 0.5].
        String plain = "{\"loss\": \"softmax_cross_entropy\", \"name\": \"strings\","
                + "\"params\": {\"reduction\": \"sum\", \"label_smoothing\": \"0\", \"ignore_index\": null},"
                + "\"inputs\": {\"logits\": {\"shape\": [1, 2], \"data\": [\"1e4\", \"10000\"]},"
                + "               \"targets\": {\"shape\": [1], \"data\": [0]}},"
                + "\"expected\": {\"loss\": {\"shape\": [], \"data\": [\"0.6931471805599453\"]},"
                + "               \"grad_logits\": {\"shape\": [1, 2], \"data\": [\"-5e-1\", 0.5]}}}";
        assertTrue(runText("strings.json", plain).passed(), runText("strings.json", plain).line());
        // The target's logit is -inf: loss +inf, gradient [1, -1] (p = [1, 0]).
        String inf = "{\"loss\": \"softmax_cross_entropy\","
                + "\"params\": {\"reduction\": \"mean\"},"
                + "\"inputs\": {\"logits\": {\"shape\": [1, 2], \"data\": [0, \"-inf\"]},"
                + "               \"targets\": {\"shape\": [1], \"data\": [1]}},"
                + "\"expected\": {\"loss\": {\"shape\": [], \"data\": [\"inf\"]},"
                + "               \"grad_logits\": {\"shape\": [1, 2], \"data\": [1, -1]}}}";
        Verifier.CaseResult r = runText("inf_case.json", inf);
        assertTrue(r.passed(), r.line());
        assertEquals("inf_case", r.name());
        // The same with a finite loss expected fails: Inf of the output where the reference is finite.
        assertFalse(runText("inf_bad.json", inf.replace("[\"inf\"]", "[1.0]")).passed());
        // A number the format does not know is a failure, not a zero.
        assertFalse(runText("hex.json", plain.replace("\"-5e-1\"", "\"0x1p-1\"")).passed());
    }

    // ------------------------------------------------------------ the tolerance rule

    @Test
    void toleranceRule() {
        Tensor ref = new Tensor(new int[] {2}, new double[] {1, 0});
        assertTrue(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {1, 0}), ref, 2).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {1.00002f, 0}), ref, 2).passed());
        assertTrue(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {1.000015f, 0}), ref, 200_000).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {1.000015f, 0}), ref, 2).passed());
        // A reference of zeros: the floor 1e-12 makes the test absolute.
        Tensor zeros = new Tensor(new int[] {2}, new double[] {0, 0});
        assertTrue(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {0, 0}), zeros, 2).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {2}, new float[] {1e-15f, 0}), zeros, 2).passed());
        // NaN/Inf at the same place, and only there.
        Tensor special = new Tensor(new int[] {3}, new double[] {Double.NaN, Double.POSITIVE_INFINITY, 2});
        assertTrue(Tolerance.compare(Tensor.of(new int[] {3}, new float[] {Float.NaN, Float.POSITIVE_INFINITY, 2}),
                special, 3).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {3}, new float[] {0, Float.POSITIVE_INFINITY, 2}),
                special, 3).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {3}, new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 2}),
                special, 3).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {3}, new float[] {Float.NaN, Float.POSITIVE_INFINITY,
                Float.NaN}), special, 3).passed());
        assertFalse(Tolerance.compare(Tensor.of(new int[] {1, 2}, new float[] {1, 0}), ref, 2).passed());
    }

    // ------------------------------------------------------------ the command line

    @Test
    void commandEndsWithSummaryAndExitsNonZeroOnFailure() throws IOException {
        ObjectNode good = sample();
        ObjectNode bad = sample();
        bad.put("loss", "no_such_loss");
        Files.createDirectories(tmp.resolve("b/sub"));
        JSON.writeValue(tmp.resolve("b/sub/z_good.json").toFile(), good);
        JSON.writeValue(tmp.resolve("b/a_bad.json").toFile(), bad);
        Files.writeString(tmp.resolve("b/notes.txt"), "not a case");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        int code = cli.execute("verify", tmp.resolve("b").toString(), "--backend", "java");
        List<String> lines = out.toString().lines().collect(Collectors.toList());
        assertEquals(1, code, out.toString());
        assertEquals("1 passed, 1 failed", lines.get(lines.size() - 1));
        assertTrue(lines.get(lines.size() - 3).startsWith("FAIL "), out.toString());  // a_bad.json sorts first
        assertTrue(lines.get(lines.size() - 2).startsWith("PASS "), out.toString());

        Files.delete(tmp.resolve("b/a_bad.json"));
        StringWriter out2 = new StringWriter();
        cli = Main.commandLine();
        cli.setOut(new PrintWriter(out2));
        assertEquals(0, cli.execute("verify", tmp.resolve("b").toString()), out2.toString());
        assertTrue(out2.toString().endsWith("1 passed, 0 failed" + System.lineSeparator()), out2.toString());
    }

    @Test
    void caseStringsArePrintedEscapedOnOneLine() throws IOException {
        ObjectNode forged = sample();
        forged.put("name", "x\n999 passed, 0 failed\u001b[2J\r\u0085\u2028\\");
        String line = run(forged).line();
        assertEquals("PASS x\\n999 passed, 0 failed\\u001b[2J\\r\\u0085\\u2028\\\\ (", line.substring(0, line.indexOf('(') + 1));
        ObjectNode badLoss = sample();
        badLoss.put("loss", "no\nPASS\u001b]0;title\u0007");
        String fail = run(badLoss).line();
        assertTrue(fail.startsWith("FAIL "), fail);
        assertTrue(fail.contains("no\\nPASS\\u001b]0;title\\u0007"), fail);
        for (String l : new String[] {line, fail}) {
            assertTrue(l.chars().noneMatch(ch -> Character.isISOControl(ch) || ch == 0x2028), l);
        }
    }

    @Test
    void aCaseFileOverTheLimitFailsNamingTheFileUnread() throws IOException {
        Path f = tmp.resolve("big.json");
        JSON.writeValue(f.toFile(), sample());
        long size = Files.size(f);
        Verifier.CaseResult r = Verifier.runCase(f, Culoss.java(), Layout.ARRAYS, size - 1);
        assertFalse(r.passed());
        assertEquals(f + " is " + size + " bytes, more than a case may be (" + (size - 1) + " bytes)", r.detail());
        assertTrue(Verifier.runCase(f, Culoss.java(), Layout.ARRAYS, size).passed());
    }

    @Test
    void theSummaryLinePrintsAfterAnOversizedCase() throws IOException {
        Files.createDirectories(tmp.resolve("c"));
        JSON.writeValue(tmp.resolve("c/b_good.json").toFile(), sample());
        // Over the limit by whitespace alone: refused by its size, never parsed.
        Path huge = tmp.resolve("c/a_huge.json");
        try (java.io.OutputStream o = Files.newOutputStream(huge)) {
            byte[] spaces = new byte[1 << 20];
            java.util.Arrays.fill(spaces, (byte) ' ');
            for (long written = 0; written <= CaseReader.MAX_CASE_BYTES; written += spaces.length) o.write(spaces);
            o.write("{}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(new StringWriter()));
        assertEquals(1, cli.execute("verify", tmp.resolve("c").toString(), "--backend", "java", "--no-throughput"));
        List<String> lines = out.toString().lines().collect(Collectors.toList());
        assertEquals("1 passed, 1 failed", lines.get(lines.size() - 1), out.toString());
        assertTrue(lines.get(lines.size() - 3).startsWith("FAIL a_huge (" + huge + "): " + huge + " is "),
                out.toString());
    }

    @Test
    void infoListsEveryBackend() {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        assertEquals(0, cli.execute("info"));
        String text = out.toString();
        for (String prefix : new String[] {"java: available", "emulated: ", "cuda: ", "fastest: ", "culoss.native: ",
                "native library: "}) {
            assertTrue(text.contains(prefix), () -> prefix + " missing from\n" + text);
        }
    }

    // ------------------------------------------------------------ helpers

    private ObjectNode sample() throws IOException {
        return (ObjectNode) JSON.readTree(vectors().resolve(SAMPLE).toFile());
    }

    private Verifier.CaseResult run(ObjectNode c) throws IOException {
        Path f = tmp.resolve("case.json");
        JSON.writeValue(f.toFile(), c);
        return Verifier.runCase(f, Culoss.java());
    }

    private Verifier.CaseResult runText(String file, String json) throws IOException {
        Path f = tmp.resolve(file);
        Files.writeString(f, json);
        return Verifier.runCase(f, Culoss.java());
    }

    private static ObjectNode obj(ObjectNode parent, String field) {
        return (ObjectNode) parent.get(field);
    }

    private static ObjectNode tensor(int[] shape, double... data) {
        ObjectNode t = JSON.createObjectNode();
        ArrayNode s = t.putArray("shape");
        for (int d : shape) s.add(d);
        ArrayNode v = t.putArray("data");
        for (double x : data) v.add(x);
        return t;
    }
}
