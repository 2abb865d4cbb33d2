package org.culoss;

import static org.culoss.FuzzKit.agree;
import static org.culoss.FuzzKit.clearOrReturns;
import static org.culoss.FuzzKit.in;
import static org.culoss.FuzzKit.len;
import static org.culoss.FuzzKit.names;
import static org.culoss.FuzzKit.out;
import static org.culoss.FuzzKit.requireClear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.reflect.RecordComponent;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.culoss.FuzzKit.Outcome;
import org.culoss.FuzzKit.Spec;
import org.culoss.FuzzKit.Tensors;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.ElementwiseReference;
import org.junit.jupiter.api.Test;

/**
 * The elementwise losses (SigmoidFocal, SmoothL1, Huber, Mse) under fuzzed options (NaN,
 * infinite, negative), reductions, sizes (negative, 0, near 2^31, 2^61, 2^62, Long.MAX_VALUE),
 * each of forward / backward / forwardBackward on arrays, host buffers (positions, slices, direct
 * in both byte orders, read-only, views of one pool, the same buffer twice, null) and backend
 * memory (views of one allocation, misaligned, another backend's, other streams, closed, views of
 * a closed owner), workspaces (none, short, closed, another backend's), and a closed loss. See
 * {@link FuzzKit} for the property.
 */
class ElementwiseFuzzTest {
    static final Set<String> NAMES = names("input", "target", "logits", "targets", "gradOutput", "loss",
            "gradInput", "gradLogits", "scores", "gradScores", "count", "workspace", "alpha", "gamma", "beta", "delta",
            "margin", "posWeight", "reduction");

    /** The losses, by the {@code which} the input decodes. */
    static final int LOSSES = 8;

    @FuzzTest(maxDuration = "20s")
    void elementwise(FuzzedDataProvider d) {
        Backend backend = FuzzKit.backend(d);
        int which = d.consumeInt(0, 3);
        // 3 picks among MSE and the losses added after it (a second choice, 0 for MSE, so inputs
        // written before those losses decode as they did where they ended in MSE's 0).
        if (which == 3) which += d.consumeInt(0, LOSSES - 4);
        Reduction reduction = FuzzKit.reduction(d);
        float p1 = FuzzKit.param(d);
        float p2 = FuzzKit.param(d);
        ElementwiseLoss<?> loss;
        try {
            loss = build(which, backend, reduction, p1, p2);
        } catch (RuntimeException e) {
            requireClear(e, NAMES);
            return;
        }
        try (ElementwiseLoss<?> l = loss; ElementwiseLoss<?> ref = build(which, Culoss.java(), reduction, p1, p2)) {
            int style = d.consumeInt(0, 2);
            int mode = d.consumeInt(0, 2);  // forward, backward, forwardBackward
            boolean closeLoss = d.consumeInt(0, 19) == 0;
            String what = l.getClass().getSimpleName() + " " + reduction + " p=" + p1 + "," + p2 + " on " + backend
                    + " " + (style == 0 ? "arrays" : style == 1 ? "host buffers" : "device") + " mode " + mode;
            if (style == 0) arrays(d, l, ref, mode, closeLoss, what);
            else buffers(d, l, ref, backend, mode, style == 2, closeLoss, what);
        }
    }

    /**
     * Found by {@link #elementwise} (fixed in ElementwiseChunks): with NONE, the loss may be written
     * exactly over the upstream gradient; the java backend stored the loss first and scaled the
     * gradient by it (Mse x = 3, t = 1, gradOutput = 1 gave gradInput 16, not 4).
     */
    @Test
    void aLossWrittenOverTheUpstreamGradient() {
        for (Backend b : BackendsUnderTest.all()) {
            for (int which = 0; which < LOSSES; which++) {
                try (ElementwiseLoss<?> l = build(which, b, Reduction.NONE, 0.25f, 2f);
                        ElementwiseLoss<?> ref = build(which, Culoss.java(), Reduction.NONE, 0.25f, 2f)) {
                    float[] x = {3f, -0.5f, 0.125f};
                    float[] t = {1f, 0f, 0.75f};
                    float[] go = {1f, 2f, -3f};
                    FloatBuffer shared = FloatBuffer.wrap(go.clone());
                    FloatBuffer grad = FloatBuffer.allocate(3);
                    l.forwardBackward(FloatBuffer.wrap(x), FloatBuffer.wrap(t), 3, shared, shared, grad);
                    FloatBuffer wantLoss = FloatBuffer.allocate(3);
                    FloatBuffer wantGrad = FloatBuffer.allocate(3);
                    ref.forwardBackward(FloatBuffer.wrap(x), FloatBuffer.wrap(t), 3, FloatBuffer.wrap(go), wantLoss,
                            wantGrad);
                    assertArrayEquals(wantLoss.array(), shared.array(), 1e-5f, b + " " + l.getClass().getSimpleName());
                    assertArrayEquals(wantGrad.array(), grad.array(), 1e-5f, b + " " + l.getClass().getSimpleName());
                }
            }
        }
    }

    static ElementwiseLoss<?> build(int which, Backend b, Reduction r, float p1, float p2) {
        return switch (which) {
            case 0 -> SigmoidFocal.builder().backend(b).reduction(r).alpha(p1).gamma(p2).build();
            case 1 -> SmoothL1.builder().backend(b).reduction(r).beta(p1).build();
            case 2 -> Huber.builder().backend(b).reduction(r).delta(p1).build();
            case 3 -> Mse.builder().backend(b).reduction(r).build();
            case 4 -> L1.builder().backend(b).reduction(r).build();
            case 5 -> Exponential.builder().backend(b).reduction(r).build();
            case 6 -> Hinge.builder().backend(b).reduction(r).margin(p1).build();
            default -> Logistic.builder().backend(b).reduction(r).posWeight(p1).build();
        };
    }

    private static String[] operandNames(ElementwiseLoss<?> l) {
        return l instanceof SigmoidFocal ? new String[] {"logits", "targets", "gradLogits"}
                : l instanceof Exponential || l instanceof Hinge ? new String[] {"scores", "targets", "gradScores"}
                : new String[] {"input", "target", "gradInput"};
    }

    /** The array overloads; the reference is the host-buffer overload on the java backend. */
    private static void arrays(FuzzedDataProvider d, ElementwiseLoss<?> l, ElementwiseLoss<?> ref, int mode,
            boolean closeLoss, String what) {
        int n = d.consumeInt(0, 12);
        float[] x = floats(d, n);
        float[] t = floats(d, d.consumeInt(0, 15) == 0 ? n + 1 : n);
        int perSample = l.reduction() == Reduction.NONE ? n : 1;
        float[] go = mode == 0 || d.consumeBoolean() ? null : floats(d, d.consumeInt(0, 15) == 0 ? perSample + 1
                : perSample);
        if (closeLoss) l.close();
        List<Spec> specs = List.of(in("x", n), in("t", t.length), in("gradOutput", go == null ? 0 : go.length),
                out("loss", perSample), out("grad", n));
        float[][] got = new float[5][];
        Outcome tested = Outcome.of(() -> {
            switch (mode) {
                case 0 -> got[3] = l.forward(x.clone(), t.clone());
                case 1 -> got[4] = l.backward(x.clone(), t.clone(), go == null ? null : go.clone());
                default -> {
                    Object r = go == null && d.consumeBoolean() ? l.forwardBackward(x.clone(), t.clone())
                            : l.forwardBackward(x.clone(), t.clone(), go == null ? null : go.clone());
                    got[3] = component(r, 0);
                    got[4] = component(r, 1);
                }
            }
        }, () -> got);
        float[][] want = new float[5][];
        Outcome reference = Outcome.of(() -> {
            FloatBuffer lb = FloatBuffer.wrap(want[3] = new float[perSample]);
            FloatBuffer gb = FloatBuffer.wrap(want[4] = new float[n]);
            FloatBuffer gob = go == null ? null : FloatBuffer.wrap(go.clone());
            if (t.length != n) throw new IllegalArgumentException("target differs in length");
            switch (mode) {
                case 0 -> ref.forward(FloatBuffer.wrap(x.clone()), FloatBuffer.wrap(t.clone()), n, lb);
                case 1 -> ref.backward(FloatBuffer.wrap(x.clone()), FloatBuffer.wrap(t.clone()), n, gob, gb);
                default -> ref.forwardBackward(FloatBuffer.wrap(x.clone()), FloatBuffer.wrap(t.clone()), n, gob, lb, gb);
            }
        }, () -> want);
        agree(tested, reference, specs, NAMES, closeLoss, what);
    }

    static float[] component(Object record, int i) {
        RecordComponent[] c = record.getClass().getRecordComponents();
        try {
            return (float[]) c[i].getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static float[] floats(FuzzedDataProvider d, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = FuzzKit.value(d);
        return v;
    }

    /** Host buffers or backend memory; the reference is the host-buffer overload on fresh heap buffers. */
    private static void buffers(FuzzedDataProvider d, ElementwiseLoss<?> l, ElementwiseLoss<?> ref, Backend backend,
            int mode, boolean device, boolean closeLoss, String what) {
        long count = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
        int n = len(count);
        int perSample = l.reduction() == Reduction.NONE ? n : 1;
        String[] on = operandNames(l);
        List<Spec> specs = new ArrayList<>(List.of(in(on[0], n), in(on[1], n), in("gradOutput", perSample),
                out("loss", perSample), out(on[2], n)));
        try (Tensors t = new Tensors(specs, backend, device)) {
            if (mode == 0) t.absent(2, 4);  // forward: no upstream gradient, no gradient
            if (mode == 1) t.absent(3);  // backward: no loss
            t.place(d, () -> 0, names("gradOutput"));
            boolean small = count >= 0 && count <= FuzzKit.CAP;
            DeviceBuffer ws = device ? FuzzKit.workspace(d, backend, small, () -> l.allocateWorkspace(count), t, NAMES)
                    : null;
            if (device && d.consumeInt(0, 7) == 0) {
                clearOrReturns(() -> l.workspaceBytes(count), NAMES);  // a query alone, any count
            }
            if (closeLoss) l.close();
            Outcome tested = Outcome.of(() -> {
                if (device) {
                    switch (mode) {
                        case 0 -> l.forward(t.dev(0), t.dev(1), count, t.dev(3), ws);
                        case 1 -> l.backward(t.dev(0), t.dev(1), count, t.dev(2), t.dev(4));
                        default -> l.forwardBackward(t.dev(0), t.dev(1), count, t.dev(2), t.dev(3), t.dev(4), ws);
                    }
                    t.synchronize();
                } else {
                    int c = (int) count;
                    switch (mode) {
                        case 0 -> l.forward(t.f(0), t.f(1), c, t.f(3));
                        case 1 -> l.backward(t.f(0), t.f(1), c, t.f(2), t.f(4));
                        default -> l.forwardBackward(t.f(0), t.f(1), c, t.f(2), t.f(3), t.f(4));
                    }
                }
            }, t::outputs);
            Object[] r = t.reference();
            int rc = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, count));
            Outcome reference = Outcome.of(() -> {
                switch (mode) {
                    case 0 -> ref.forward((FloatBuffer) r[0], (FloatBuffer) r[1], rc, (FloatBuffer) r[3]);
                    case 1 -> ref.backward((FloatBuffer) r[0], (FloatBuffer) r[1], rc, (FloatBuffer) r[2],
                            (FloatBuffer) r[4]);
                    default -> ref.forwardBackward((FloatBuffer) r[0], (FloatBuffer) r[1], rc, (FloatBuffer) r[2],
                            (FloatBuffer) r[3], (FloatBuffer) r[4]);
                }
            }, () -> FuzzKit.outputs(specs, r));
            agree(tested, reference, specs, NAMES, closeLoss || t.closedUsed || t.closedWorkspace && mode != 1, what);
            if (tested.error() == null && count == n && t.lengths[0] >= n && t.lengths[1] >= n) {
                float[] go = t.lengths[2] < 0 ? null : t.floatValues[2];
                float64(l, t.floatValues[0], t.floatValues[1], n, go, tested.outputs()[3], tested.outputs()[4], what);
            }
        }
    }

    /**
     * The float64 reference of SmoothL1, Huber and Mse ({@link ElementwiseReference}), where the
     * inputs are finite and moderate: the loss and the gradient within float rounding of a sum.
     */
    static void float64(ElementwiseLoss<?> l, float[] x, float[] t, int n, float[] go, float[] loss, float[] grad,
            String what) {
        if (l instanceof SigmoidFocal) return;
        for (int i = 0; i < n; i++) {
            if (!(Math.abs(x[i]) <= 1e4f && Math.abs(t[i]) <= 1e4f)) return;
        }
        if (go != null) {
            for (float g : go) if (!(Math.abs(g) <= 1e4f)) return;
        }
        float[] tc = Arrays.copyOf(t, n);
        ElementwiseReference.Element e;
        // Moderate options too: a margin of 3e38 sums past FLT_MAX (inf, rightly) where float64 does not.
        if (l instanceof Hinge h && !(Math.abs(h.margin()) <= 1e4f)) return;
        if (l instanceof Logistic g && !(Math.abs(g.posWeight()) <= 1e4f)) return;
        if (l instanceof Exponential) {
            for (int i = 0; i < n; i++) if (!(Math.abs((double) x[i] * t[i]) <= 80)) return;  // exp(80) = 5.5e34
        }
        if (l instanceof Mse) e = (i, xi) -> new double[] {(xi - tc[i]) * (xi - tc[i]), 2 * (xi - tc[i])};
        else if (l instanceof SmoothL1 s) e = (i, xi) -> smoothL1(xi - tc[i], s.beta(), 1);
        else if (l instanceof Huber h) e = (i, xi) -> huber(xi - tc[i], h.delta());
        else if (l instanceof L1) e = (i, xi) -> new double[] {Math.abs(xi - tc[i]), Math.signum(xi - tc[i])};
        else if (l instanceof Exponential) e = (i, xi) -> {
            double v = Math.exp(-tc[i] * xi);
            return new double[] {v, -tc[i] * v};
        };
        else if (l instanceof Hinge h) e = (i, xi) -> {
            double z = h.margin() - tc[i] * xi;
            return new double[] {Math.max(z, 0), z >= 0 ? -tc[i] : 0};
        };
        else e = (i, xi) -> logistic(xi, tc[i], ((Logistic) l).posWeight());
        ElementwiseReference ref = new ElementwiseReference(e, l.reduction(), go);
        double[] xd = new double[n];
        double scale = 0;
        for (int i = 0; i < n; i++) {
            xd[i] = x[i];
            scale += Math.abs(e.at(i, x[i])[0]);
        }
        double gscale = go == null ? 1 : 0;
        if (go != null) for (float g : go) gscale = Math.max(gscale, Math.abs(g));
        if (loss != null) {
            double[] want = ref.loss(xd);
            for (int i = 0; i < Math.min(want.length, loss.length); i++) {
                double tol = 1e-3 * (1 + Math.abs(want[i])) + 1e-5 * scale;
                if (!(Math.abs(loss[i] - want[i]) <= tol)) {
                    fail(what + ": loss[" + i + "] = " + loss[i] + ", float64 gives " + want[i]);
                }
            }
        }
        if (grad != null) {
            double[] want = ref.grad(xd);
            for (int i = 0; i < Math.min(want.length, grad.length); i++) {
                double tol = 1e-3 * (1 + Math.abs(want[i])) + 1e-3 * gscale;
                if (!(Math.abs(grad[i] - want[i]) <= tol)) {
                    fail(what + ": grad[" + i + "] = " + grad[i] + ", float64 gives " + want[i]);
                }
            }
        }
    }

    /** {loss, d loss / dx} of smooth L1 at d = x - t (beta 0: L1, sign(0) = 0). */
    private static double[] smoothL1(double d, double b, double k) {
        double a = Math.abs(d);
        if (b == 0) return new double[] {a, Math.signum(d)};
        double loss = a < b ? 0.5 * d * d / b : a - 0.5 * b;
        double grad = d <= -b ? -1 : d >= b ? 1 : d / b;
        return new double[] {k * loss, k * grad};
    }

    /** {loss, d loss / dx} of the logistic loss (PyTorch's formula, pos_weight p) at x, t. */
    private static double[] logistic(double x, double t, double p) {
        double lw = (p - 1) * t + 1;
        double softplusNeg = Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0);
        double sigmoid = 1 / (1 + Math.exp(-x));
        return new double[] {(1 - t) * x + lw * softplusNeg, lw * sigmoid - p * t};
    }

    /** {loss, d loss / dx} of Huber at d = x - t (delta may be +inf: 0.5 d^2 everywhere). */
    private static double[] huber(double d, double delta) {
        double a = Math.abs(d);
        double loss = a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
        double grad = d <= -delta ? -delta : d >= delta ? delta : d;
        return new double[] {loss, grad};
    }
}
