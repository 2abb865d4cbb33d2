package org.culoss.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * The adapters DL4J has no loss for, against their formulas in double: each example's score and,
 * by central differences of those formulas, the gradient with respect to the pre-activation
 * output (through a tanh where the loss takes any activation).
 */
class FormulaLossesTest {
    static final int N = 9;
    static final int C = 6;
    final Random random = new Random(3);

    interface RowFormula {
        /** Row i's loss in double, from its scores (after the activation) and labels. */
        double loss(double[] x, double[] t);
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** Scores and central-difference gradients of {@code f} applied after {@code act} (tanh or none). */
    void check(ILossFunction loss, IActivation act, boolean tanh, INDArray labels, RowFormula f, double tol) {
        float[] z = new float[N * C];
        for (int i = 0; i < z.length; i++) z[i] = (float) (random.nextGaussian() * 1.5);
        INDArray pre = Nd4j.create(z, new long[] {N, C}, 'c');
        INDArray mask = Nd4j.create(DataType.FLOAT, N, 1);
        for (int i = 0; i < N; i++) mask.putScalar(i, i % 4 == 1 ? 0f : 1f + 0.25f * i);
        INDArray scores = loss.computeScoreArray(labels, pre, act, mask);
        INDArray grad = loss.computeGradient(labels, pre, act, mask);
        double total = 0;
        for (int i = 0; i < N; i++) {
            double[] zi = new double[C];
            double[] ti = new double[labels.columns()];
            for (int j = 0; j < C; j++) zi[j] = z[i * C + j];
            for (int j = 0; j < ti.length; j++) ti[j] = labels.getDouble(i, j);
            double w = mask.getDouble(i);
            double li = w * f.loss(activate(zi, tanh), ti);
            total += li;
            assertEquals(li, scores.getDouble(i, 0), tol * Math.max(1, Math.abs(li)), loss + " example " + i);
            for (int j = 0; j < C; j++) {
                double h = 1e-5;
                double[] up = zi.clone();
                double[] down = zi.clone();
                up[j] += h;
                down[j] -= h;
                double fd = w * (f.loss(activate(up, tanh), ti) - f.loss(activate(down, tanh), ti)) / (2 * h);
                assertEquals(fd, grad.getDouble(i, j), tol * Math.max(1, Math.abs(fd)), loss + " gradient " + i + "," + j);
            }
        }
        assertEquals(total / N, loss.computeScore(labels, pre, act, mask, true), tol * Math.max(1, total / N), loss + " score");
    }

    static double[] activate(double[] z, boolean tanh) {
        double[] a = z.clone();
        if (tanh) for (int j = 0; j < a.length; j++) a[j] = Math.tanh(a[j]);
        return a;
    }

    INDArray values() {
        INDArray t = Nd4j.create(DataType.FLOAT, N, C);
        for (int i = 0; i < N * C; i++) t.putScalar(i, (float) random.nextGaussian());
        return t;
    }

    INDArray probabilities() {
        INDArray t = Nd4j.create(DataType.FLOAT, N, C);
        for (int i = 0; i < N * C; i++) t.putScalar(i, random.nextInt(3) == 0 ? random.nextFloat() : random.nextInt(2));
        return t;
    }

    @Test
    void smoothL1AndHuber() {
        float beta = 0.6f;
        RowFormula smooth = (x, t) -> {
            double s = 0;
            for (int j = 0; j < C; j++) {
                double d = Math.abs(x[j] - t[j]);
                s += d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
            }
            return s;
        };
        float delta = 0.8f;
        RowFormula huber = (x, t) -> {
            double s = 0;
            for (int j = 0; j < C; j++) {
                double d = Math.abs(x[j] - t[j]);
                s += d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
            }
            return s;
        };
        for (boolean tanh : new boolean[] {false, true}) {
            IActivation act = tanh ? new ActivationTanH() : new ActivationIdentity();
            check(new CulossSmoothL1(beta), act, tanh, values(), smooth, 2e-4);
            check(new CulossHuber(delta), act, tanh, values(), huber, 2e-4);
        }
    }

    @Test
    void logisticWithPosWeightAndSigmoidFocal() {
        float p = 2.5f;
        RowFormula logistic = (x, t) -> {
            double s = 0;
            for (int j = 0; j < C; j++)
                s += -(p * t[j] * Math.log(sigmoid(x[j])) + (1 - t[j]) * Math.log(1 - sigmoid(x[j])));
            return s;
        };
        float alpha = 0.3f, gamma = 1.5f;
        RowFormula focal = (x, t) -> {
            double s = 0;
            for (int j = 0; j < C; j++) {
                double q = sigmoid(x[j]);
                double ce = -(t[j] * Math.log(q) + (1 - t[j]) * Math.log(1 - q));
                double pt = q * t[j] + (1 - q) * (1 - t[j]);
                double at = alpha * t[j] + (1 - alpha) * (1 - t[j]);
                s += at * ce * Math.pow(1 - pt, gamma);
            }
            return s;
        };
        for (IActivation act : new IActivation[] {new ActivationSigmoid(), new ActivationIdentity()}) {
            check(new CulossLogistic(p), act, false, probabilities(), logistic, 2e-4);
            check(new CulossSigmoidFocal(alpha, gamma), act, false, probabilities(), focal, 2e-4);
        }
    }

    @Test
    void softmaxFocalWithClassAlpha() {
        float gamma = 2f;
        float[] alpha = {0.5f, 1f, 1.5f, 2f, 0.25f, 1f};
        int[] classes = new int[N];
        INDArray oneHot = Nd4j.zeros(DataType.FLOAT, N, C);
        INDArray column = Nd4j.create(DataType.FLOAT, N, 1);
        for (int i = 0; i < N; i++) {
            classes[i] = random.nextInt(C);
            oneHot.putScalar(i, classes[i], 1f);
            column.putScalar(i, classes[i]);
        }
        RowFormula focal = (x, t) -> {
            int y = t.length == 1 ? (int) t[0] : java.util.stream.IntStream.range(0, C).filter(j -> t[j] == 1).findFirst()
                    .getAsInt();
            double max = java.util.Arrays.stream(x).max().getAsDouble();
            double sum = 0;
            for (double v : x) sum += Math.exp(v - max);
            double logp = x[y] - max - Math.log(sum);
            return -alpha[y] * Math.pow(1 - Math.exp(logp), gamma) * logp;
        };
        check(new CulossSoftmaxFocal(gamma, alpha), new ActivationSoftmax(), false, oneHot, focal, 2e-4);
        check(new CulossSoftmaxFocal(gamma, alpha), new ActivationSoftmax(), false, column, focal, 2e-4);
    }
}
