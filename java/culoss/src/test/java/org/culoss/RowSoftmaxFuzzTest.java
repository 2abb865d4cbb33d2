package org.culoss;

import static org.culoss.FuzzKit.agree;
import static org.culoss.FuzzKit.clearOrReturns;
import static org.culoss.FuzzKit.in;
import static org.culoss.FuzzKit.labels;
import static org.culoss.FuzzKit.len;
import static org.culoss.FuzzKit.names;
import static org.culoss.FuzzKit.out;
import static org.culoss.FuzzKit.requireClear;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;
import java.util.Set;
import org.culoss.FuzzKit.Outcome;
import org.culoss.FuzzKit.Spec;
import org.culoss.FuzzKit.Tensors;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * SoftmaxCrossEntropy, SoftmaxFocal, MulticlassHinge and InterclassDistance under fuzzed options (label smoothing,
 * gamma, alpha, margin and p, a per-class table with NaN or of the wrong length, an ignore index or
 * none), row strides for the
 * logits and the gradient (less than C, huge), sizes n and c (negative, 0, near 2^31, 2^61, 2^62,
 * Long.MAX_VALUE), labels outside [0, C), the gradient written over the logits, each of the three
 * modes on arrays, host buffers and backend memory (see {@link FuzzKit} for placements), with
 * {@code checkErrors} after a device call. See {@link FuzzKit} for the property.
 */
class RowSoftmaxFuzzTest {
    static final Set<String> NAMES = names("logits", "targets", "classWeights", "classAlpha", "gradOutput", "loss",
            "gradLogits", "n", "c", "logitsStride", "gradStride", "workspace", "labelSmoothing", "gamma", "alpha",
            "reduction", "scores", "gradScores", "scoresStride", "margin", "p");

    /**
     * Found by {@link #rows} (label smoothing, MEAN, an upstream gradient of -inf): the kernel gave
     * -inf where the java backend gave NaN, each from its own finite form of the gradient. The rule
     * now, on every backend: an infinite upstream gradient makes the counted row's gradient NaN
     * (PyTorch's is inf - inf at most entries), an ignored row's stays 0, and the loss is the loss.
     */
    @Test
    void anInfiniteUpstreamGradientGivesANaNRowGradient() {
        float[] logits = {Float.NEGATIVE_INFINITY, -0f, -0.125f, 1f, 2f, -3f};
        int[] targets = {0, 2};
        for (Backend b : BackendsUnderTest.all()) {
            for (boolean focal : new boolean[] {false, true}) {
                for (Reduction r : Reduction.values()) {
                    for (float g : new float[] {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY}) {
                        String what = b + (focal ? " focal " : " CE ") + r + " g=" + g;
                        try (RowSoftmaxLoss<?> l = build(focal, b, r, 0.015625f, 2f, 0, null);
                                RowSoftmaxLoss<?> ignoring = build(focal, b, r, 0.015625f, 2f, 3, null)) {
                            float[] go = r == Reduction.NONE ? new float[] {g, 1f} : new float[] {g};
                            FloatBuffer grad = FloatBuffer.allocate(6);
                            l.backward(FloatBuffer.wrap(logits), 3, IntBuffer.wrap(targets), 2, 3, FloatBuffer.wrap(go),
                                    grad, 3);
                            int nanRows = r == Reduction.NONE ? 1 : 2;
                            for (int j = 0; j < 6; j++) {
                                if (j < 3 * nanRows) {
                                    assertTrue(Float.isNaN(grad.get(j)), what + ": grad[" + j + "] = " + grad.get(j));
                                } else {
                                    assertTrue(Float.isFinite(grad.get(j)), what + ": grad[" + j + "] = " + grad.get(j));
                                }
                            }
                            // ignore index 1 takes row 0 (target 1 here): its gradient stays 0.
                            FloatBuffer ig = FloatBuffer.allocate(6);
                            ignoring.backward(FloatBuffer.wrap(logits), 3, IntBuffer.wrap(new int[] {1, 2}), 2, 3,
                                    FloatBuffer.wrap(go), ig, 3);
                            for (int j = 0; j < 3; j++) assertEquals(0f, ig.get(j), what + ": ignored row, grad[" + j + "]");
                        }
                    }
                }
            }
        }
    }

    @FuzzTest(maxDuration = "20s")
    void rows(FuzzedDataProvider d) {
        Backend backend = FuzzKit.backend(d);
        int kind = d.consumeInt(0, 3);  // cross-entropy, focal, multi-class hinge, class-distance
        Reduction reduction = FuzzKit.reduction(d);
        float p1 = FuzzKit.param(d);
        float p2 = FuzzKit.param(d);
        int ignore = d.consumeInt(0, 3);  // 0: none, 1: -100, 2: 0, 3: 1
        int tableLength = d.consumeInt(0, 3) == 0 ? d.consumeInt(0, 13) : -1;
        float[] table = tableLength < 0 ? null : ElementwiseFuzzTest.floats(d, tableLength);
        RowLoss<?> loss;
        try {
            loss = build(kind, backend, reduction, p1, p2, ignore, table);
        } catch (RuntimeException e) {
            requireClear(e, NAMES);
            return;
        }
        try (RowLoss<?> l = loss;
                RowLoss<?> ref = build(kind, Culoss.java(), reduction, p1, p2, ignore, table)) {
            int style = d.consumeInt(0, 2);
            int mode = d.consumeInt(0, 2);
            boolean closeLoss = d.consumeInt(0, 19) == 0;
            String what = l.getClass().getSimpleName() + " " + reduction + " p=" + p1 + "," + p2 + " ignore#" + ignore
                    + " table " + (table == null ? null : table.length) + " on " + backend + " style " + style
                    + " mode " + mode;
            run(d, l, ref, backend, style, mode, closeLoss, what);
        }
    }

    /**
     * kind 2: multi-class hinge, margin p1, p = 2 for p2 > 1, 1 for p2 in [0, 1], else (int) p2
     * (refused); kind 3: the class-distance weighted cross-entropy (no options, no table).
     */
    static RowLoss<?> build(int kind, Backend b, Reduction r, float p1, float p2, int ignore, float[] table) {
        if (kind == 3) return InterclassDistance.builder().backend(b).reduction(r).build();
        if (kind == 2) {
            MulticlassHinge.Builder h = MulticlassHinge.builder().margin(p1)
                    .p(p2 > 1 ? 2 : p2 >= 0 ? 1 : (int) p2);
            if (table != null) h.classWeights(table);
            return h.backend(b).reduction(r).build();
        }
        return build(kind == 1, b, r, p1, p2, ignore, table);
    }

    static RowSoftmaxLoss<?> build(boolean focal, Backend b, Reduction r, float p1, float p2, int ignore,
            float[] table) {
        RowSoftmaxLoss.RowsBuilder<?> builder;
        if (focal) {
            SoftmaxFocal.Builder f = SoftmaxFocal.builder().gamma(p1).alpha(p2);
            if (table != null) f.classAlpha(table);
            builder = f;
        } else {
            SoftmaxCrossEntropy.Builder c = SoftmaxCrossEntropy.builder().labelSmoothing(p1);
            if (table != null) c.classWeights(table);
            builder = c;
        }
        builder.backend(b).reduction(r);
        if (ignore == 0) builder.noIgnoreIndex();
        else builder.ignoreIndex(ignore == 1 ? -100 : ignore - 2);
        return builder instanceof SoftmaxFocal.Builder f ? f.build() : ((SoftmaxCrossEntropy.Builder) builder).build();
    }

    private static void run(FuzzedDataProvider d, RowLoss<?> l, RowLoss<?> ref, Backend backend,
            int style, int mode, boolean closeLoss, String what) {
        boolean device = style == 2;
        long n = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
        long c = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
        if (style == 0 && d.consumeBoolean()) {  // the common case: a few rows of a few classes
            n = d.consumeInt(0, 6);
            c = d.consumeInt(1, 6);
        }
        long logitsStride = style == 0 ? c : stride(d, c, device);
        long gradStride = style == 0 ? c : stride(d, c, device);
        int perSample = len(n);
        int lossLength = l.reduction() == Reduction.NONE ? perSample : 1;
        List<Spec> specs = List.of(in("logits", rows(n, c, logitsStride)), labels("targets", perSample),
                in("gradOutput", lossLength), out("loss", lossLength), out("gradLogits", rows(n, c, gradStride)));
        long cc = c;
        try (Tensors t = new Tensors(specs, backend, device)) {
            if (mode == 0) t.absent(2, 4);
            if (mode == 1) t.absent(3);
            if (style == 0) t.absent(3, 4);  // the array overloads allocate their outputs
            t.place(d, () -> FuzzKit.label(d, cc), names("gradOutput"));
            boolean small = n >= 0 && c >= 0 && len(n, c) <= FuzzKit.CAP && n <= FuzzKit.CAP && c <= FuzzKit.CAP;
            long fn = n;
            DeviceBuffer ws = device ? FuzzKit.workspace(d, backend, small, () -> l.allocateWorkspace(fn, cc), t, NAMES)
                    : null;
            if (device && d.consumeInt(0, 7) == 0) clearOrReturns(() -> l.workspaceBytes(fn, cc), NAMES);
            if (closeLoss) l.close();
            float[][] got = new float[5][];
            Outcome tested = Outcome.of(() -> {
                if (style == 0) {
                    float[] logits = t.floatValues[0];
                    int[] targets = t.intValues[1];
                    float[] go = t.lengths[2] < 0 ? null : t.floatValues[2];
                    int ni = (int) fn;
                    int ci = (int) cc;
                    switch (mode) {
                        case 0 -> got[3] = l.forward(logits, targets, ni, ci);
                        case 1 -> got[4] = l.backward(logits, targets, ni, ci, go);
                        default -> {
                            Object r = l.forwardBackward(logits, targets, ni, ci, go);
                            got[3] = ElementwiseFuzzTest.component(r, 0);
                            got[4] = ElementwiseFuzzTest.component(r, 1);
                        }
                    }
                } else if (device) {
                    switch (mode) {
                        case 0 -> l.forward(t.dev(0), logitsStride, t.dev(1), fn, cc, t.dev(3), ws);
                        case 1 -> l.backward(t.dev(0), logitsStride, t.dev(1), fn, cc, t.dev(2), t.dev(4), gradStride,
                                ws);
                        default -> l.forwardBackward(t.dev(0), logitsStride, t.dev(1), fn, cc, t.dev(2), t.dev(3),
                                t.dev(4), gradStride, ws);
                    }
                    t.synchronize();
                    if (ws != null) l.checkErrors(ws, t.dev(0).stream());
                } else {
                    int ls = (int) logitsStride;
                    int gs = (int) gradStride;
                    switch (mode) {
                        case 0 -> l.forward(t.f(0), ls, t.ints(1), (int) fn, (int) cc, t.f(3));
                        case 1 -> l.backward(t.f(0), ls, t.ints(1), (int) fn, (int) cc, t.f(2), t.f(4), gs);
                        default -> l.forwardBackward(t.f(0), ls, t.ints(1), (int) fn, (int) cc, t.f(2), t.f(3), t.f(4),
                                gs);
                    }
                }
            }, () -> style == 0 ? got : t.outputs());
            Object[] r = t.reference();
            if (style == 0) {  // the reference gets the outputs the array call allocates
                r[3] = mode == 1 ? null : FloatBuffer.wrap(new float[lossLength]);
                r[4] = mode == 0 ? null : FloatBuffer.wrap(new float[Math.max(0, rows(n, c, c))]);
            }
            int rn = clamp(n);
            int rc = clamp(c);
            int rls = clamp(logitsStride);
            int rgs = clamp(gradStride);
            Outcome reference = Outcome.of(() -> {
                FloatBuffer lg = (FloatBuffer) r[0];
                IntBuffer tg = (IntBuffer) r[1];
                switch (mode) {
                    case 0 -> ref.forward(lg, rls, tg, rn, rc, (FloatBuffer) r[3]);
                    case 1 -> ref.backward(lg, rls, tg, rn, rc, (FloatBuffer) r[2], (FloatBuffer) r[4], rgs);
                    default -> ref.forwardBackward(lg, rls, tg, rn, rc, (FloatBuffer) r[2], (FloatBuffer) r[3],
                            (FloatBuffer) r[4], rgs);
                }
            }, () -> FuzzKit.outputs(specs, r));
            agree(tested, reference, specs, NAMES, closeLoss || t.closedUsed || t.closedWorkspace, what);
        }
    }

    static int clamp(long v) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    /** A row stride: mostly c, sometimes more, less, or huge. */
    static long stride(FuzzedDataProvider d, long c, boolean device) {
        int k = d.consumeInt(0, 7);
        long s = switch (k) {
            case 0 -> c + d.consumeInt(1, 3);
            case 1 -> c - 1;
            case 2 -> FuzzKit.size(d);
            default -> c;
        };
        return device ? s : clamp(s);
    }

    /** The elements of n rows of c with a row stride: (n - 1) * stride + c, capped. */
    static int rows(long n, long c, long stride) {
        if (n <= 0 || c <= 0) return 0;
        if (n > FuzzKit.CAP || c > FuzzKit.CAP || stride > FuzzKit.CAP) return FuzzKit.CAP;
        return (int) Math.min(FuzzKit.CAP, (n - 1) * Math.max(stride, 0) + c);
    }
}
