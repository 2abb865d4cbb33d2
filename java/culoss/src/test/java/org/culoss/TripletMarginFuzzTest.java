package org.culoss;

import static org.culoss.FuzzKit.agree;
import static org.culoss.FuzzKit.clearOrReturns;
import static org.culoss.FuzzKit.in;
import static org.culoss.FuzzKit.len;
import static org.culoss.FuzzKit.names;
import static org.culoss.FuzzKit.out;
import static org.culoss.FuzzKit.requireClear;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Set;
import org.culoss.FuzzKit.Outcome;
import org.culoss.FuzzKit.Spec;
import org.culoss.FuzzKit.Tensors;

/**
 * TripletMargin under fuzzed options (margin, p including +inf, eps, swap; NaN, infinite,
 * negative), sizes n and d (negative, 0, near 2^31, 2^61, 2^62, Long.MAX_VALUE), any subset of
 * the three gradients, the gradients over the inputs or each other, each mode on arrays, host
 * buffers and backend memory (see {@link FuzzKit}). Besides the property of {@link FuzzKit}: a
 * row whose loss is NaN has a NaN gradient for p other than 1 and inf, as PyTorch's.
 */
class TripletMarginFuzzTest {
    static final Set<String> NAMES = names("anchor", "positive", "negative", "gradOutput", "loss", "gradAnchor",
            "gradPositive", "gradNegative", "n", "d", "workspace", "margin", "p", "eps", "reduction");

    @FuzzTest(maxDuration = "20s")
    void triplet(FuzzedDataProvider d) {
        Backend backend = FuzzKit.backend(d);
        Reduction reduction = FuzzKit.reduction(d);
        float margin = FuzzKit.param(d);
        float p = d.consumeInt(0, 5) == 0 ? Float.POSITIVE_INFINITY : FuzzKit.param(d);
        float eps = d.consumeBoolean() ? 1e-6f : FuzzKit.param(d);
        boolean swap = d.consumeBoolean();
        TripletMargin loss;
        try {
            loss = build(backend, reduction, margin, p, eps, swap);
        } catch (RuntimeException e) {
            requireClear(e, NAMES);
            return;
        }
        try (TripletMargin l = loss; TripletMargin ref = build(Culoss.java(), reduction, margin, p, eps, swap)) {
            int style = d.consumeInt(0, 2);
            int mode = d.consumeInt(0, 2);
            boolean closeLoss = d.consumeInt(0, 19) == 0;
            boolean device = style == 2;
            long n = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
            long dim = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
            if (style == 0 && d.consumeBoolean()) {
                n = d.consumeInt(0, 5);
                dim = d.consumeInt(0, 5);
            }
            int nd = len(n, dim);
            int lossLength = reduction == Reduction.NONE ? len(n) : 1;
            List<Spec> specs = List.of(in("anchor", nd), in("positive", nd), in("negative", nd),
                    in("gradOutput", lossLength), out("loss", lossLength), out("gradAnchor", nd),
                    out("gradPositive", nd), out("gradNegative", nd));
            String what = "TripletMargin " + reduction + " margin " + margin + " p " + p + " eps " + eps + " swap "
                    + swap + " on " + backend + " style " + style + " mode " + mode + " n " + n + " d " + dim;
            long fn = n;
            long fd = dim;
            try (Tensors t = new Tensors(specs, backend, device)) {
                if (mode == 0) t.absent(3, 5, 6, 7);
                if (mode == 1) t.absent(4);
                if (style == 0) t.absent(4, 5, 6, 7);
                t.place(d, () -> 0, names("gradOutput", "gradAnchor", "gradPositive", "gradNegative"));
                boolean small = n >= 0 && dim >= 0 && n <= FuzzKit.CAP && dim <= FuzzKit.CAP && len(n, dim) < FuzzKit.CAP;
                DeviceBuffer ws = device ? FuzzKit.workspace(d, backend, small, () -> l.allocateWorkspace(fn, fd), t,
                        NAMES) : null;
                if (device && d.consumeInt(0, 7) == 0) clearOrReturns(() -> l.workspaceBytes(fn, fd), NAMES);
                if (closeLoss) l.close();
                float[][] got = new float[8][];
                Outcome tested = Outcome.of(() -> {
                    if (style == 0) {
                        float[] a = t.floatValues[0];
                        float[] po = t.floatValues[1];
                        float[] ne = t.floatValues[2];
                        float[] go = t.lengths[3] < 0 ? null : t.floatValues[3];
                        TripletMargin.Result res = switch (mode) {
                            case 0 -> new TripletMargin.Result(l.forward(a, po, ne, (int) fn, (int) fd), null, null,
                                    null);
                            case 1 -> l.backward(a, po, ne, (int) fn, (int) fd, go);
                            default -> l.forwardBackward(a, po, ne, (int) fn, (int) fd, go);
                        };
                        got[4] = res.loss();
                        got[5] = res.gradAnchor();
                        got[6] = res.gradPositive();
                        got[7] = res.gradNegative();
                    } else if (device) {
                        switch (mode) {
                            case 0 -> l.forward(t.dev(0), t.dev(1), t.dev(2), fn, fd, t.dev(4), ws);
                            case 1 -> l.backward(t.dev(0), t.dev(1), t.dev(2), fn, fd, t.dev(3), t.dev(5), t.dev(6),
                                    t.dev(7), ws);
                            default -> l.forwardBackward(t.dev(0), t.dev(1), t.dev(2), fn, fd, t.dev(3), t.dev(4),
                                    t.dev(5), t.dev(6), t.dev(7), ws);
                        }
                        t.synchronize();
                    } else {
                        switch (mode) {
                            case 0 -> l.forward(t.f(0), t.f(1), t.f(2), (int) fn, (int) fd, t.f(4));
                            case 1 -> l.backward(t.f(0), t.f(1), t.f(2), (int) fn, (int) fd, t.f(3), t.f(5), t.f(6),
                                    t.f(7));
                            default -> l.forwardBackward(t.f(0), t.f(1), t.f(2), (int) fn, (int) fd, t.f(3), t.f(4),
                                    t.f(5), t.f(6), t.f(7));
                        }
                    }
                }, () -> style == 0 ? got : t.outputs());
                Object[] r = t.reference();
                if (style == 0) {
                    int g = Math.max(0, nd);
                    r[4] = mode == 1 ? null : FloatBuffer.wrap(new float[lossLength]);
                    for (int i = 5; i < 8; i++) r[i] = mode == 0 ? null : FloatBuffer.wrap(new float[g]);
                }
                int rn = RowSoftmaxFuzzTest.clamp(n);
                int rd = RowSoftmaxFuzzTest.clamp(dim);
                Outcome reference = Outcome.of(() -> {
                    FloatBuffer[] b = new FloatBuffer[8];
                    for (int i = 0; i < 8; i++) b[i] = (FloatBuffer) r[i];
                    switch (mode) {
                        case 0 -> ref.forward(b[0], b[1], b[2], rn, rd, b[4]);
                        case 1 -> ref.backward(b[0], b[1], b[2], rn, rd, b[3], b[5], b[6], b[7]);
                        default -> ref.forwardBackward(b[0], b[1], b[2], rn, rd, b[3], b[4], b[5], b[6], b[7]);
                    }
                }, () -> FuzzKit.outputs(specs, r));
                // With no gradOutput given, ws closed only matters for a forward that takes one.
                boolean wsMatters = t.closedWorkspace;
                agree(tested, reference, specs, NAMES, closeLoss || t.closedUsed || wsMatters, what);
                // PyTorch's p = 1 and p = inf gradients are sign(x) and a share of it: finite, even on
                // a NaN row (sgn(NaN) = 0); the other norms divide by the NaN distance.
                if (tested.error() == null && mode == 2 && reduction == Reduction.NONE && p != 1f
                        && !Float.isInfinite(p)) {
                    nanLossHasNanGradient(tested.outputs(), (int) Math.min(n, FuzzKit.CAP), nd / Math.max(1,
                            (int) Math.min(n, FuzzKit.CAP)), what);
                }
            }
        }
    }

    static TripletMargin build(Backend b, Reduction r, float margin, float p, float eps, boolean swap) {
        return TripletMargin.builder().backend(b).reduction(r).margin(margin).p(p).eps(eps).swap(swap).build();
    }

    /** PyTorch, p other than 1 and inf: a NaN loss row has NaN gradients (they were zeros). */
    static void nanLossHasNanGradient(float[][] out, int n, int dim, String what) {
        if (out[4] == null || out[5] == null || dim == 0) return;
        for (int i = 0; i < Math.min(n, out[4].length); i++) {
            if (!Float.isNaN(out[4][i])) continue;
            boolean anyNan = false;
            for (int j = 0; j < dim && i * dim + j < out[5].length; j++) anyNan |= Float.isNaN(out[5][i * dim + j]);
            if (!anyNan) fail(what + ": loss[" + i + "] is NaN, its gradAnchor has no NaN");
        }
    }
}
