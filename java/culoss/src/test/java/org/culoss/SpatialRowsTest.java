package org.culoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;

/**
 * Cross-entropy (class indices and soft targets) and softmax focal loss over [N, C, d1..dk] logits through the public methods
 * (arrays and backend memory) against the same rows laid out [N * inner, C] through the plain
 * methods: position k of sample b is row b * inner + k, whose gradient lands back at
 * (b * c + j) * inner + k. On every backend, with a per-class table, smoothing or gamma, an
 * ignored position and {@code none} with an upstream gradient.
 */
class SpatialRowsTest {
    private static final int N = 3;
    private static final int C = 7;
    private static final int INNER = 5;

    @Test
    void spatialEqualsTheTransposedRows() {
        Random rnd = new Random(11);
        float[] x = new float[N * C * INNER];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rnd.nextGaussian());
        int[] y = new int[N * INNER];
        for (int i = 0; i < y.length; i++) y[i] = rnd.nextInt(C);
        y[4] = -100;
        float[] rows = new float[x.length];
        for (int b = 0; b < N; b++) {
            for (int j = 0; j < C; j++) {
                for (int k = 0; k < INNER; k++) rows[(b * INNER + k) * C + j] = x[(b * C + j) * INNER + k];
            }
        }
        float[] weights = {0.5f, 1f, 2f, 1.5f, 0.25f, 1f, 3f};
        float[] up = new float[N * INNER];
        for (int i = 0; i < up.length; i++) up[i] = (float) rnd.nextGaussian();
        for (Backend backend : BackendsUnderTest.all()) {
            for (Reduction r : Reduction.values()) {
                for (boolean focal : new boolean[] {false, true}) {
                    RowSoftmaxLoss<?> loss = focal
                            ? SoftmaxFocal.builder().backend(backend).reduction(r).classAlpha(weights).gamma(1.5f)
                                    .ignoreIndex(-100).build()
                            : SoftmaxCrossEntropy.builder().backend(backend).reduction(r).classWeights(weights)
                                    .labelSmoothing(0.1f).build();
                    check(loss, (focal ? "focal " : "cross-entropy ") + backend + " " + r, x, y, rows, up);
                }
            }
        }
    }

    /** forwardBackwardSpatial against forwardBackward on the transposed rows, then the device path. */
    private static void check(RowSoftmaxLoss<?> ce, String what, float[] x, int[] y, float[] rows, float[] up) {
        try (ce) {
            float[] go = ce.reduction() == Reduction.NONE ? up : null;
            float[][] plain = parts(ce.forwardBackward(rows, y, N * INNER, C, go));
            float[][] spatial = parts(ce.forwardBackwardSpatial(x, y, N, C, INNER, go));
            assertArrayEquals(plain[0], spatial[0], 1e-6f, what + ": loss");
            assertArrayEquals(plain[0], ce.forwardSpatial(x, y, N, C, INNER), 1e-6f, what + ": forward");
            for (int b = 0; b < N; b++) {
                for (int j = 0; j < C; j++) {
                    for (int k = 0; k < INNER; k++) {
                        assertEquals(plain[1][(b * INNER + k) * C + j], spatial[1][(b * C + j) * INNER + k],
                                1e-6f, what + ": gradient");
                    }
                }
            }
            Backend backend = ce.backend();
            try (DeviceBuffer dx = backend.allocateFloats(x.length); DeviceBuffer dy = backend.allocateInts(y.length);
                 DeviceBuffer dgo = backend.allocateFloats(up.length);
                 DeviceBuffer loss = backend.allocateFloats(spatial[0].length);
                 DeviceBuffer grad = backend.allocateFloats(x.length);
                 DeviceBuffer ws = ErrorWord.allocateWorkspace(backend, ce.workspaceBytesSpatial(N, C, INNER))) {
                dx.copyFrom(x);
                dy.copyFrom(y);
                dgo.copyFrom(up);
                ce.forwardBackwardSpatial(dx, dy, N, C, INNER, go == null ? null : dgo, loss, grad, ws);
                ce.checkErrors(ws, dx.stream());
                float[] gotLoss = new float[spatial[0].length];
                float[] gotGrad = new float[x.length];
                loss.copyTo(gotLoss);
                grad.copyTo(gotGrad);
                assertArrayEquals(spatial[0], gotLoss, 1e-6f, what + ": device loss");
                assertArrayEquals(spatial[1], gotGrad, 1e-6f, what + ": device gradient");
            }
        }
    }

    @Test
    void softTargetsOverSpatialEqualTheTransposedRows() {
        Random rnd = new Random(13);
        float[] x = new float[N * C * INNER];
        float[] t = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (2 * rnd.nextGaussian());
            t[i] = rnd.nextInt(9) / 8f - 0.125f;  // rows that do not sum to 1, a few negative
        }
        float[] rows = toRows(x);
        float[] rowProbs = toRows(t);
        float[] weights = {0.5f, 1f, 2f, 1.5f, 0.25f, 1f, 3f};
        float[] up = new float[N * INNER];
        for (int i = 0; i < up.length; i++) up[i] = (float) rnd.nextGaussian();
        for (Backend backend : BackendsUnderTest.all()) {
            for (Reduction r : Reduction.values()) {
                String what = "soft targets " + backend + " " + r;
                try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(backend).reduction(r)
                        .classWeights(weights).labelSmoothing(0.1f).build()) {
                    float[] go = r == Reduction.NONE ? up : null;
                    SoftmaxCrossEntropy.Result plain = ce.forwardBackwardProbs(rows, rowProbs, N * INNER, C, go);
                    SoftmaxCrossEntropy.Result spatial = ce.forwardBackwardProbsSpatial(x, t, N, C, INNER, go);
                    assertArrayEquals(plain.loss(), spatial.loss(), 1e-6f, what + ": loss");
                    assertArrayEquals(plain.gradLogits(), toRows(spatial.gradLogits()), 1e-6f, what + ": gradient");
                    try (DeviceBuffer dx = backend.allocateFloats(x.length);
                         DeviceBuffer dt = backend.allocateFloats(t.length);
                         DeviceBuffer dgo = backend.allocateFloats(up.length);
                         DeviceBuffer loss = backend.allocateFloats(spatial.loss().length);
                         DeviceBuffer ws = DeviceBuffer.allocate(backend, ce.workspaceBytesProbsSpatial(N, C, INNER))) {
                        dx.copyFrom(x);
                        dt.copyFrom(t);
                        dgo.copyFrom(up);
                        ce.forwardBackwardProbsSpatial(dx, dt, N, C, INNER, go == null ? null : dgo, loss, dx, ws);
                        float[] gotLoss = new float[spatial.loss().length];
                        float[] gotGrad = new float[x.length];
                        loss.copyTo(gotLoss);
                        dx.copyTo(gotGrad);
                        assertArrayEquals(spatial.loss(), gotLoss, 1e-6f, what + ": device loss");
                        assertArrayEquals(spatial.gradLogits(), gotGrad, 1e-6f, what + ": device gradient in place");
                    }
                }
            }
        }
    }

    /** [N, C, INNER] as rows [N * INNER, C]. */
    private static float[] toRows(float[] x) {
        float[] rows = new float[x.length];
        for (int b = 0; b < N; b++) {
            for (int j = 0; j < C; j++) {
                for (int k = 0; k < INNER; k++) rows[(b * INNER + k) * C + j] = x[(b * C + j) * INNER + k];
            }
        }
        return rows;
    }

    private static float[][] parts(Object result) {
        if (result instanceof SoftmaxCrossEntropy.Result r) return new float[][] {r.loss(), r.gradLogits()};
        SoftmaxFocal.Result r = (SoftmaxFocal.Result) result;
        return new float[][] {r.loss(), r.gradLogits()};
    }

    @Test
    void sizesThatDoNotFitAreNamed() {
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ce.forwardSpatial(new float[10], new int[4], 2, 3, 2));
            assertEquals(true, e.getMessage().contains("logits"), e.getMessage());
        }
    }
}
