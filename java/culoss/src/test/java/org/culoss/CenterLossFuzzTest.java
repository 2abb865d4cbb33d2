package org.culoss;

import static org.culoss.FuzzKit.agree;
import static org.culoss.FuzzKit.clearOrReturns;
import static org.culoss.FuzzKit.in;
import static org.culoss.FuzzKit.inOut;
import static org.culoss.FuzzKit.labels;
import static org.culoss.FuzzKit.len;
import static org.culoss.FuzzKit.names;
import static org.culoss.FuzzKit.out;
import static org.culoss.FuzzKit.requireClear;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;
import java.util.Set;
import org.culoss.FuzzKit.Outcome;
import org.culoss.FuzzKit.Spec;
import org.culoss.FuzzKit.Tensors;

/**
 * CenterLoss under fuzzed options (lambda, alpha: NaN, infinite, negative), sizes n, d and c
 * (negative, 0, near 2^31, 2^61, 2^62, Long.MAX_VALUE), labels outside [0, C), the gradients over
 * the inputs or each other, {@code forward}, {@code backward}, {@code forwardBackward} (with and
 * without the center gradient) and {@code updateCenters} (in place: the centers are read and
 * written) on arrays, host buffers and backend memory, with {@code checkErrors} after a device
 * call. See {@link FuzzKit} for the property.
 */
class CenterLossFuzzTest {
    static final Set<String> NAMES = names("features", "labels", "centers", "gradOutput", "loss", "gradFeatures",
            "gradCenters", "n", "d", "c", "workspace", "lambda", "alpha", "reduction");

    @FuzzTest(maxDuration = "20s")
    void center(FuzzedDataProvider d) {
        Backend backend = FuzzKit.backend(d);
        Reduction reduction = FuzzKit.reduction(d);
        float lambda = FuzzKit.param(d);
        float alpha = FuzzKit.param(d);
        CenterLoss loss;
        try {
            loss = build(backend, reduction, lambda, alpha);
        } catch (RuntimeException e) {
            requireClear(e, NAMES);
            return;
        }
        try (CenterLoss l = loss; CenterLoss ref = build(Culoss.java(), reduction, lambda, alpha)) {
            int style = d.consumeInt(0, 2);
            int mode = d.consumeInt(0, 3);  // forward, backward, forwardBackward, updateCenters
            boolean closeLoss = d.consumeInt(0, 19) == 0;
            boolean device = style == 2;
            long n = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
            long dim = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
            long c = device ? FuzzKit.size(d) : FuzzKit.intSize(d);
            if (d.consumeBoolean()) {
                n = d.consumeInt(0, 6);
                dim = d.consumeInt(0, 4);
                c = d.consumeInt(0, 5);
            }
            boolean update = mode == 3;
            int lossLength = reduction == Reduction.NONE ? len(n) : 1;
            List<Spec> specs = List.of(in("features", len(n, dim)), labels("labels", len(n)),
                    update ? inOut("centers", len(c, dim)) : in("centers", len(c, dim)),
                    in("gradOutput", lossLength), out("loss", lossLength), out("gradFeatures", len(n, dim)),
                    out("gradCenters", len(c, dim)));
            String what = "CenterLoss " + reduction + " lambda " + lambda + " alpha " + alpha + " on " + backend
                    + " style " + style + " mode " + mode + " n " + n + " d " + dim + " c " + c;
            long fn = n;
            long fd = dim;
            long fc = c;
            boolean arrayCenterGrad = d.consumeBoolean();
            try (Tensors t = new Tensors(specs, backend, device)) {
                switch (mode) {
                    case 0 -> t.absent(3, 5, 6);
                    case 1 -> t.absent(4);
                    case 3 -> t.absent(3, 4, 5, 6);
                    default -> { }
                }
                if (style == 0) t.absent(4, 5, 6);
                t.place(d, () -> FuzzKit.label(d, fc), names("gradOutput", "gradFeatures", "gradCenters"));
                boolean small = n >= 0 && dim >= 0 && c >= 0 && n <= FuzzKit.CAP && dim <= FuzzKit.CAP
                        && c <= FuzzKit.CAP && len(n, dim) < FuzzKit.CAP && len(c, dim) < FuzzKit.CAP;
                DeviceBuffer ws = device ? FuzzKit.workspace(d, backend, small, () -> l.allocateWorkspace(fn, fd, fc),
                        t, NAMES) : null;
                if (device && d.consumeInt(0, 7) == 0) clearOrReturns(() -> l.workspaceBytes(fn, fd, fc), NAMES);
                if (closeLoss) l.close();
                float[][] got = new float[7][];
                Outcome tested = Outcome.of(() -> {
                    if (style == 0) {
                        float[] f = t.floatValues[0];
                        int[] y = t.intValues[1];
                        float[] centers = t.floatValues[2] == null ? null : t.floatValues[2].clone();
                        float[] go = t.lengths[3] < 0 ? null : t.floatValues[3];
                        int ni = (int) fn;
                        int di = (int) fd;
                        int ci = (int) fc;
                        switch (mode) {
                            case 0 -> got[4] = l.forward(f, y, centers, ni, di, ci);
                            case 1 -> got[5] = l.backward(f, y, centers, ni, di, ci, go);
                            case 2 -> {
                                CenterLoss.Result r = arrayCenterGrad
                                        ? l.forwardBackward(f, y, centers, ni, di, ci, go, true)
                                        : l.forwardBackward(f, y, centers, ni, di, ci, go);
                                got[4] = r.loss();
                                got[5] = r.gradFeatures();
                                got[6] = r.gradCenters();
                            }
                            default -> {
                                try {
                                    l.updateCenters(f, y, centers, ni, di, ci);
                                } finally {
                                    got[2] = centers;
                                }
                            }
                        }
                    } else if (device) {
                        switch (mode) {
                            case 0 -> l.forward(t.dev(0), t.dev(1), t.dev(2), fn, fd, fc, t.dev(4), ws);
                            case 1 -> l.backward(t.dev(0), t.dev(1), t.dev(2), fn, fd, fc, t.dev(3), t.dev(5), t.dev(6),
                                    ws);
                            case 2 -> l.forwardBackward(t.dev(0), t.dev(1), t.dev(2), fn, fd, fc, t.dev(3), t.dev(4),
                                    t.dev(5), t.dev(6), ws);
                            default -> l.updateCenters(t.dev(0), t.dev(1), t.dev(2), fn, fd, fc, ws);
                        }
                        t.synchronize();
                        if (ws != null) l.checkErrors(ws, t.dev(0).stream());
                    } else {
                        int ni = (int) fn;
                        int di = (int) fd;
                        int ci = (int) fc;
                        switch (mode) {
                            case 0 -> l.forward(t.f(0), t.ints(1), t.f(2), ni, di, ci, t.f(4));
                            case 1 -> l.backward(t.f(0), t.ints(1), t.f(2), ni, di, ci, t.f(3), t.f(5), t.f(6));
                            case 2 -> l.forwardBackward(t.f(0), t.ints(1), t.f(2), ni, di, ci, t.f(3), t.f(4), t.f(5),
                                    t.f(6));
                            default -> l.updateCenters(t.f(0), t.ints(1), t.f(2), ni, di, ci);
                        }
                    }
                }, () -> style == 0 ? got : t.outputs());
                Object[] r = t.reference();
                if (style == 0) {
                    r[4] = mode == 0 || mode == 2 ? FloatBuffer.wrap(new float[lossLength]) : null;
                    r[5] = mode == 1 || mode == 2 ? FloatBuffer.wrap(new float[len(n, dim)]) : null;
                    r[6] = mode == 2 && arrayCenterGrad ? FloatBuffer.wrap(new float[len(c, dim)]) : null;
                    if (mode == 1 && t.lengths[5] < 0) r[6] = null;
                }
                int rn = RowSoftmaxFuzzTest.clamp(n);
                int rd = RowSoftmaxFuzzTest.clamp(dim);
                int rc = RowSoftmaxFuzzTest.clamp(c);
                Outcome reference = Outcome.of(() -> {
                    FloatBuffer f = (FloatBuffer) r[0];
                    IntBuffer y = (IntBuffer) r[1];
                    FloatBuffer centers = (FloatBuffer) r[2];
                    switch (mode) {
                        case 0 -> ref.forward(f, y, centers, rn, rd, rc, (FloatBuffer) r[4]);
                        case 1 -> ref.backward(f, y, centers, rn, rd, rc, (FloatBuffer) r[3], (FloatBuffer) r[5],
                                (FloatBuffer) r[6]);
                        case 2 -> ref.forwardBackward(f, y, centers, rn, rd, rc, (FloatBuffer) r[3], (FloatBuffer) r[4],
                                (FloatBuffer) r[5], (FloatBuffer) r[6]);
                        default -> ref.updateCenters(f, y, centers, rn, rd, rc);
                    }
                }, () -> FuzzKit.outputs(specs, r));
                agree(tested, reference, specs, NAMES, closeLoss || t.closedUsed || t.closedWorkspace, what);
            }
        }
    }

    static CenterLoss build(Backend b, Reduction r, float lambda, float alpha) {
        return CenterLoss.builder().backend(b).reduction(r).lambda(lambda).alpha(alpha).build();
    }
}
