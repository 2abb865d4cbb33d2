package org.culoss.internal;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.culoss.Reduction;

/**
 * Large-margin softmax (L-Softmax) on the CPU, in the native kernels' order: the logits
 * {@code x W} (each a double sum over d in increasing order, rounded to float), the target logit
 * replaced by the margin form, softmax cross-entropy on those rows ({@link JavaSoftmaxCrossEntropy},
 * whose logit gradient goes to a scratch array), then the two products back through them, each
 * entry again a double sum in increasing order. The angle's function comes from its cosine alone
 * ({@link #psi}): no acos, no division by sin(theta). Rows are spread over the threads; every
 * entry is one thread's sum, so the bits do not depend on the thread count.
 */
public final class JavaLargeMarginSoftmax {
    /** Rows (of x, or of W for the weight gradient) per chunk of work: each output is one thread's sum. */
    private static final int ROWS = 8;

    private JavaLargeMarginSoftmax() {}

    /**
     * psi(theta) = (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m], and its derivative
     * in cos(theta), from cos(theta): cos(m theta) = T_m(cos theta), d T_m / d cos = m U_{m-1}
     * (the Chebyshev recurrences), and k the number of boundaries cos(j pi / m), 0 < j < m, that
     * cos(theta) lies at or below. Writes {psi, dpsi}.
     */
    static void psi(int m, double cos, double[] out) {
        int k = 0;
        for (int j = 1; j < m; j++) {
            if (cos <= Math.cos(j * Math.PI / m)) k++;
        }
        double tPrev = 1;
        double t = cos;
        double uPrev = 0;
        double u = 1;
        for (int q = 1; q < m; q++) {
            double tNext = 2 * cos * t - tPrev;
            tPrev = t;
            t = tNext;
            double uNext = 2 * cos * u - uPrev;
            uPrev = u;
            u = uNext;
        }
        double sign = (k & 1) == 0 ? 1 : -1;
        out[0] = sign * t - 2 * k;
        out[1] = sign * m * u;
    }

    /**
     * The loss and its gradients. Buffers are read and written with absolute indices from 0;
     * arguments are validated by the caller, except the targets.
     *
     * @param features       n x d, row-major
     * @param weights        d x c, row-major (column j is class j's weight vector)
     * @param modifiedLogits n x c output, or null (then a scratch array)
     * @param gradFeatures   n x d output, or null
     * @param gradWeights    d x c output, or null
     * @return the first row whose target is outside [0, c) (it counts for nothing), or -1
     */
    public static long run(FloatBuffer features, FloatBuffer weights, IntBuffer targets, int n, int d, int c,
                           int margin, float lambda, Reduction reduction, FloatBuffer gradOutput, FloatBuffer loss,
                           FloatBuffer modifiedLogits, FloatBuffer gradFeatures, FloatBuffer gradWeights,
                           int threads) {
        float[] x = read(features, n * d);
        float[] w = read(weights, d * c);
        double[] norm = new double[c];
        for (int k = 0; k < d; k++) {
            for (int j = 0; j < c; j++) norm[j] += (double) w[k * c + j] * w[k * c + j];
        }
        for (int j = 0; j < c; j++) norm[j] = Math.sqrt(norm[j]);
        // per row: d f'_y / d f_y, and the coefficients of the psi term along x_i and along W_y
        double[] slope = new double[n];
        double[] alongX = new double[n];
        double[] alongW = new double[n];
        boolean[] badRow = new boolean[n];
        double inv = 1.0 / (1.0 + lambda);
        float[] f = new float[n * c];
        int rowChunks = (n + ROWS - 1) / ROWS;
        // the logits, the margin form of each target's: rows over the workers
        Chunked.sum(rowChunks, threads, () -> {
            double[] acc = new double[c];
            double[] p = new double[2];
            return chunk -> {
                for (int i = chunk * ROWS; i < Math.min(n, (chunk + 1) * ROWS); i++) {
                    java.util.Arrays.fill(acc, 0);
                    for (int k = 0; k < d; k++) {
                        double xk = x[i * d + k];
                        for (int j = 0; j < c; j++) acc[j] += xk * w[k * c + j];
                    }
                    for (int j = 0; j < c; j++) f[i * c + j] = (float) acc[j];
                    int y = targets.get(i);
                    if (y < 0 || y >= c) {
                        badRow[i] = true;
                        continue;
                    }
                    double nx = 0;
                    for (int k = 0; k < d; k++) nx += (double) x[i * d + k] * x[i * d + k];
                    nx = Math.sqrt(nx);
                    double u = acc[y];  // the double sum, as the native epilogue takes it
                    double product = nx * norm[y];
                    if (product > 0) {
                        double cos = Math.max(-1.0, Math.min(1.0, u / product));
                        psi(margin, cos, p);
                        f[i * c + y] = (float) ((lambda * u + product * p[0]) * inv);
                        slope[i] = (lambda + p[1]) * inv;
                        double r = (p[0] - cos * p[1]) * inv;
                        alongX[i] = r * norm[y] / nx;
                        alongW[i] = r * nx / norm[y];
                    } else {
                        f[i * c + y] = (float) (lambda * u * inv);
                        slope[i] = lambda * inv;
                    }
                }
                return 0;
            };
        });
        long bad = -1;
        for (int i = 0; i < n && bad < 0; i++) {
            if (badRow[i]) bad = i;
        }
        boolean grads = gradFeatures != null || gradWeights != null;
        float[] g = grads ? new float[n * c] : null;
        long ceBad = JavaSoftmaxCrossEntropy.run(FloatBuffer.wrap(f), c, targets, n, c, null,
                SoftmaxRows.NO_IGNORE_INDEX, 0f, reduction, gradOutput, loss, grads ? FloatBuffer.wrap(g) : null, c,
                threads);
        if (bad < 0) bad = ceBad;
        if (modifiedLogits != null) modifiedLogits.put(0, f);
        if (!grads) return bad;
        double[] gy = new double[n];  // the target's logit gradient, before the chain through f'_y
        for (int i = 0; i < n; i++) {
            int y = targets.get(i);
            if (y < 0 || y >= c) continue;
            gy[i] = g[i * c + y];
            g[i * c + y] = (float) (gy[i] * slope[i]);
        }
        if (gradFeatures != null) {  // G W^T and the psi term along x_i: rows over the workers
            float[] out = new float[n * d];
            Chunked.sum(rowChunks, threads, () -> chunk -> {
                for (int i = chunk * ROWS; i < Math.min(n, (chunk + 1) * ROWS); i++) {
                    for (int k = 0; k < d; k++) {
                        double s = 0;
                        for (int j = 0; j < c; j++) s += (double) g[i * c + j] * w[k * c + j];
                        out[i * d + k] = (float) (s + gy[i] * alongX[i] * x[i * d + k]);
                    }
                }
                return 0;
            });
            gradFeatures.put(0, out);
        }
        if (gradWeights != null) {  // x^T G and, per class, the psi term along W_j: rows of W over the workers
            double[] perClass = new double[c];  // sum over the rows of class j of the psi term's coefficient
            boolean[] targeted = new boolean[c];  // a class no row targets has no psi term (not 0 * W_j)
            for (int i = 0; i < n; i++) {
                int y = targets.get(i);
                if (y >= 0 && y < c) {
                    perClass[y] += gy[i] * alongW[i];
                    targeted[y] = true;
                }
            }
            float[] out = new float[d * c];
            Chunked.sum((d + ROWS - 1) / ROWS, threads, () -> {
                double[] acc = new double[c];
                return chunk -> {
                    for (int k = chunk * ROWS; k < Math.min(d, (chunk + 1) * ROWS); k++) {
                        java.util.Arrays.fill(acc, 0);
                        for (int i = 0; i < n; i++) {
                            double xk = x[i * d + k];
                            for (int j = 0; j < c; j++) acc[j] += xk * g[i * c + j];
                        }
                        for (int j = 0; j < c; j++) {
                            out[k * c + j] = (float) (targeted[j] ? acc[j] + perClass[j] * w[k * c + j] : acc[j]);
                        }
                    }
                    return 0;
                };
            });
            gradWeights.put(0, out);
        }
        return bad;
    }

    private static float[] read(FloatBuffer b, int count) {
        float[] out = new float[count];
        b.get(0, out);
        return out;
    }
}
