package org.culoss;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.culoss.Declarations.Layout;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * NaN and infinite inputs on every loss and backend, against what PyTorch's float64 autograd gives
 * for the same inputs (non_finite.json, written by src/test/python/make_non_finite.py). What is
 * checked above all is where NaN lands: a NaN input reaches the loss and the gradients wherever
 * PyTorch's rules take it, and is not turned into a finite gradient by a branch ({@code x > 0},
 * a max, a clamp) that is false for NaN, which would hide it from the optimizer. Infinities
 * likewise, and Huber with delta = +inf (every difference in the quadratic zone).
 *
 * <p>Each case runs on arrays and on backend memory. Non-finite expected values must stand at the
 * same places with the same value; finite ones within 1e-5 (relative, or absolute below 1).
 */
class NonFiniteInputsTest {
    private static final double TOLERANCE = 1e-5;
    private static final Layout[] LAYOUTS = {Layout.ARRAYS, Layout.DEVICE};

    /** One case of non_finite.json. */
    private record Case(String loss, String name, Map<String, Object> params, Map<String, Declarations.Array> inputs,
                        Map<String, double[]> expected) {}

    @TestFactory
    Stream<DynamicTest> nonFiniteInputsPropagateAsInPyTorch() throws IOException {
        List<Case> cases = read();
        TreeSet<String> uncovered = new TreeSet<>(Declarations.names());
        cases.forEach(c -> uncovered.remove(c.loss));
        assertTrue(uncovered.isEmpty(), "losses with no non-finite case in non_finite.json: " + uncovered);
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : BackendsUnderTest.all()) {
            for (Case c : cases) {
                for (Layout layout : LAYOUTS) {
                    String what = c.name + ", " + layout + ", backend " + b;
                    tests.add(DynamicTest.dynamicTest(what, () -> check(what, c, b, layout)));
                }
            }
        }
        return tests.stream();
    }

    private static void check(String what, Case c, Backend b, Layout layout) {
        Map<String, Declarations.Array> got = Declarations.prepare(c.loss, b, c.params, c.inputs).run(layout).outputs();
        List<Executable> checks = new ArrayList<>();
        c.expected.forEach((name, ref) -> checks.add(() -> {
            Declarations.Array out = got.get(name);
            assertTrue(out != null, what + ": no output " + name);
            compare(what + ", " + name, ref, out.floats());
        }));
        assertAll(what, checks);
    }

    private static void compare(String at, double[] ref, float[] got) {
        assertEquals(ref.length, got.length, at + ": length");
        for (int i = 0; i < ref.length; i++) {
            double r = ref[i];
            float g = got[i];
            // The float a float64 value rounds to: past Float.MAX_VALUE that is an infinity.
            float expected = (float) r;
            if (!Float.isFinite(expected)) {
                if (Float.isNaN(expected) ? !Float.isNaN(g) : g != expected) {
                    fail(at + "[" + i + "]: PyTorch gives " + r + ", got " + g);
                }
                continue;
            }
            if (!(Math.abs(g - r) <= TOLERANCE * Math.max(1, Math.abs(r)))) {
                fail(at + "[" + i + "]: PyTorch gives " + r + ", got " + g);
            }
        }
    }

    // ---------------------------------------------------------------- reading the cases

    private static List<Case> read() throws IOException {
        JsonNode root;
        try (InputStream in = NonFiniteInputsTest.class.getResourceAsStream("non_finite.json")) {
            assertTrue(in != null, "non_finite.json is not on the test class path");
            root = new ObjectMapper().readTree(in);
        }
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root) {
            String loss = c.get("loss").asText();
            Map<String, Object> params = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = c.get("params").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> p = it.next();
                JsonNode v = p.getValue();
                // "inf" (p = inf, delta = inf) is a number to the builders, not a string.
                params.put(p.getKey(), v.isBoolean() ? (Object) v.booleanValue() : isNumber(v) ? number(v)
                        : v.asText());
            }
            Map<String, Declarations.Array> inputs = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = c.get("inputs").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int[] shape = new int[e.getValue().get("shape").size()];
                for (int k = 0; k < shape.length; k++) shape[k] = e.getValue().get("shape").get(k).asInt();
                double[] data = numbers(e.getValue().get("data"));
                if (Declarations.intInput(loss, e.getKey())) {
                    int[] ints = new int[data.length];
                    for (int k = 0; k < ints.length; k++) ints[k] = (int) data[k];
                    inputs.put(e.getKey(), Declarations.Array.ofInts(shape, ints));
                } else {
                    float[] floats = new float[data.length];
                    for (int k = 0; k < floats.length; k++) floats[k] = (float) data[k];
                    inputs.put(e.getKey(), Declarations.Array.ofFloats(shape, floats));
                }
            }
            Map<String, double[]> expected = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = c.get("expected").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                expected.put(e.getKey(), numbers(e.getValue()));
            }
            cases.add(new Case(loss, c.get("name").asText(), params, inputs, expected));
        }
        return cases;
    }

    /** Numbers, or the strings "nan", "inf" and "-inf". */
    private static double[] numbers(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = number(array.get(i));
        return out;
    }

    private static boolean isNumber(JsonNode v) {
        return v.isNumber() || List.of("nan", "inf", "-inf").contains(v.asText());
    }

    private static double number(JsonNode v) {
        return v.isNumber() ? v.doubleValue() : switch (v.asText()) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> throw new IllegalArgumentException("not a number: " + v);
        };
    }
}
