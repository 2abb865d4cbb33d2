package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every gradient of every declared loss against central finite differences of its own loss, on
 * the pure-Java kernels, read from the declarations: a loss added to the library is checked here
 * with nothing added. The loss is summed (reduction sum) so that the directional derivative
 * {@code <grad, v>} of a random direction v is compared with {@code (L(x + h v) - L(x - h v)) / 2h}.
 */
class DeclaredGradientsTest {
    /** Small sizes by name; every declared size must have one. */
    private static final Map<String, Integer> SIZES = Map.of("n", 5, "c", 4, "d", 6, "count", 23, "inner", 3, "classes", 1);

    @TestFactory
    Stream<DynamicTest> everyGradientMatchesFiniteDifferences() {
        List<DynamicTest> tests = new ArrayList<>();
        for (LossDeclaration<?> d : Declarations.all()) {
            for (Op<?> op : d.forms()) {  // each form (soft targets too), chosen by the inputs drawn
                for (Operand grad : op.operands) {
                    if (grad.role != Operand.Role.GRAD) continue;
                    tests.add(DynamicTest.dynamicTest(op.name + " " + grad.caseName(), () -> check(d, op, grad)));
                }
            }
        }
        assertTrue(tests.size() >= 9, "every loss has a gradient");
        return tests.stream();
    }

    private static void check(LossDeclaration<?> d, Op<?> op, Operand grad) {
        Operand input = inputOf(op, grad);
        Random rnd = new Random(grad.caseName().hashCode() * 31L + op.name.hashCode());
        Map<String, Declarations.Array> inputs = inputs(op, rnd);
        float[] x = inputs.get(input.caseName()).floats();
        float[] g = run(d, inputs).get(grad.caseName()).floats();
        double rms = 0;
        double[] v = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            v[i] = rnd.nextGaussian();
            rms += (double) x[i] * x[i];
        }
        rms = Math.sqrt(rms / x.length);
        double h = 1e-2 * Math.max(rms, 1e-2);
        double analytic = 0;
        for (int i = 0; i < x.length; i++) analytic += g[i] * v[i];
        double plus = lossAt(d, inputs, input, x, v, h);
        double minus = lossAt(d, inputs, input, x, v, -h);
        double numeric = (plus - minus) / (2 * h);
        double scale = Math.max(Math.abs(analytic), Math.abs(plus) * 1e-3 + 1e-3);
        assertEquals(analytic, numeric, 2e-2 * scale,
                d.name() + ": <" + grad.caseName() + ", v> is " + analytic + ", the finite difference " + numeric);
    }

    /** The input a gradient is taken with respect to: gradLogits is d loss / d logits. */
    private static Operand inputOf(Op<?> op, Operand grad) {
        String name = grad.name.substring("grad".length());
        name = Character.toLowerCase(name.charAt(0)) + name.substring(1);
        return op.operands.get(op.slot(name));
    }

    private static double lossAt(LossDeclaration<?> d, Map<String, Declarations.Array> inputs, Operand input,
            float[] x, double[] v, double h) {
        float[] moved = new float[x.length];
        for (int i = 0; i < x.length; i++) moved[i] = (float) (x[i] + h * v[i]);
        Map<String, Declarations.Array> at = new HashMap<>(inputs);
        at.put(input.caseName(), Declarations.Array.ofFloats(inputs.get(input.caseName()).shape(), moved));
        return run(d, at).get("loss").floats()[0];
    }

    private static Map<String, Declarations.Array> run(LossDeclaration<?> d, Map<String, Declarations.Array> inputs) {
        return Declarations.prepare(d.name(), Culoss.java(1), Map.of("reduction", "sum"), inputs).run().outputs();
    }

    /** Gaussian inputs, probabilities in (0, 1), labels over the classes; no optional input. */
    private static Map<String, Declarations.Array> inputs(Op<?> op, Random rnd) {
        Map<String, Declarations.Array> out = new HashMap<>();
        for (Operand o : op.operands) {
            if (o.role != Operand.Role.INPUT && o.role != Operand.Role.LABELS) continue;
            int[] shape = new int[o.dims.length];
            int count = 1;
            for (int k = 0; k < shape.length; k++) {
                shape[k] = SIZES.get(op.sizeNames.get(o.dims[k]));
                count *= shape[k];
            }
            if (o.role == Operand.Role.LABELS) {
                int classes = SIZES.get(op.sizeNames.get(op.classSize));
                out.put(o.caseName(), Declarations.Array.ofInts(shape, rnd.ints(count, 0, classes).toArray()));
                continue;
            }
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = o.probability ? 0.05f + 0.9f * rnd.nextFloat() : (float) (2 * rnd.nextGaussian());
            }
            out.put(o.caseName(), Declarations.Array.ofFloats(shape, values));
        }
        return out;
    }
}
