package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native backend of this JVM against the java backend (itself checked against a float64
 * reference and finite differences), on random and awkward shapes, through every way of calling:
 * arrays, heap and direct buffers with row strides and unaligned rows, and backend memory.
 */
class SoftmaxCrossEntropyParityTest {

    static Stream<Arguments> shapes() {
        // n, c, logits stride padding, reduction, weights, smoothing, ignore
        return Stream.of(
                Arguments.of(0, 5, 0, Reduction.MEAN, false, 0f, true),
                Arguments.of(1, 1, 0, Reduction.SUM, false, 0f, true),
                Arguments.of(7, 1, 3, Reduction.NONE, true, 0.1f, true),
                Arguments.of(33, 7, 1, Reduction.MEAN, true, 0.2f, true),
                Arguments.of(64, 10, 0, Reduction.MEAN, false, 0f, false),
                Arguments.of(5, 33, 2, Reduction.NONE, false, 0.3f, true),
                Arguments.of(9, 1000, 0, Reduction.SUM, true, 0f, true),
                Arguments.of(3, 1023, 5, Reduction.MEAN, true, 0.1f, true),
                Arguments.of(2, 4097, 0, Reduction.NONE, false, 0.05f, false),
                Arguments.of(2, 50000, 1, Reduction.MEAN, true, 0.1f, true));
    }

    private static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    private static SoftmaxCrossEntropy loss(Backend b, Reduction r, float[] weights, float e, boolean ignore) {
        SoftmaxCrossEntropy.Builder builder = SoftmaxCrossEntropy.builder().backend(b).reduction(r).labelSmoothing(e)
                .classWeights(weights);
        return (ignore ? builder.ignoreIndex(-100) : builder.noIgnoreIndex()).build();
    }

    @ParameterizedTest(name = "n={0} c={1} pad={2} {3} weights={4} e={5} ignore={6}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int c, int pad, Reduction r, boolean useWeights, float e, boolean ignore) {
        Backend nat = nativeBackend();
        Random rnd = new Random(n * 31L + c);
        int stride = c + pad;
        float[] logits = new float[Math.max(0, (n - 1) * stride + c)];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian() * 3f;
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) targets[i] = ignore && rnd.nextInt(5) == 0 ? -100 : rnd.nextInt(c);
        float[] weights = null;
        if (useWeights) {
            weights = new float[c];
            for (int j = 0; j < c; j++) weights[j] = 0.1f + rnd.nextFloat();
        }
        float[] gradOutput = new float[r == Reduction.NONE ? n : 1];
        for (int i = 0; i < gradOutput.length; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;

        int lossLength = r == Reduction.NONE ? n : 1;
        float[] refLoss = new float[lossLength];
        float[] refGrad = new float[logits.length];
        try (SoftmaxCrossEntropy java = loss(Culoss.java(), r, weights, e, ignore);
                SoftmaxCrossEntropy ce = loss(nat, r, weights, e, ignore)) {
            java.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(refLoss), FloatBuffer.wrap(refGrad), stride);

            // 1. heap buffers with strides
            float[] loss1 = new float[lossLength];
            float[] grad1 = new float[logits.length];
            ce.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(loss1), FloatBuffer.wrap(grad1), stride);
            assertClose(refLoss, loss1, "heap loss");
            assertClose(refGrad, grad1, "heap grad");

            // 2. direct buffers, one float past an aligned start: every row unaligned
            FloatBuffer dLogits = direct(logits.length + 1).position(1).slice();
            dLogits.put(logits).flip();
            IntBuffer dTargets = ByteBuffer.allocateDirect(Math.max(4, n * 4)).order(ByteOrder.nativeOrder()).asIntBuffer();
            dTargets.put(targets).flip();
            FloatBuffer dLoss = direct(lossLength);
            FloatBuffer dGrad = direct(logits.length + 1).position(1).slice();
            ce.forwardBackward(dLogits, stride, dTargets, n, c, FloatBuffer.wrap(gradOutput), dLoss, dGrad, stride);
            assertClose(refLoss, toArray(dLoss, lossLength), "direct loss");
            assertClose(refGrad, toArray(dGrad, logits.length), "direct grad");

            // 3. backend memory, queued on the default stream, with a workspace
            if (n > 0) {
                try (DeviceBuffer x = nat.allocateFloats(logits.length);
                        DeviceBuffer y = nat.allocateInts(n);
                        DeviceBuffer go = nat.allocateFloats(gradOutput.length);
                        DeviceBuffer l = nat.allocateFloats(lossLength);
                        DeviceBuffer g = nat.allocateFloats(logits.length);
                        DeviceBuffer ws = ce.allocateWorkspace(n, c)) {
                    x.copyFrom(logits);
                    y.copyFrom(targets);
                    go.copyFrom(gradOutput);
                    ce.forwardBackward(x, stride, y, n, c, go, l, g, stride, ws);
                    ce.checkErrors(ws, 0);
                    float[] loss3 = new float[lossLength];
                    float[] grad3 = new float[logits.length];
                    l.copyTo(loss3);
                    g.copyTo(grad3);
                    assertClose(refLoss, loss3, "device loss");
                    for (int i = 0; i < n; i++) {  // the padding of device memory is undefined: compare rows
                        for (int j = 0; j < c; j++) {
                            assertEquals(refGrad[i * stride + j], grad3[i * stride + j],
                                    1e-5f * (1f + Math.abs(refGrad[i * stride + j])), "device grad");
                        }
                    }
                }
            }

            // 4. forward alone and backward alone agree with the fused call
            if (n > 0) {
                float[] loss4 = new float[lossLength];
                ce.forward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c, FloatBuffer.wrap(loss4));
                assertClose(refLoss, loss4, "forward");
                float[] grad4 = new float[logits.length];
                ce.backward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                        FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(grad4), stride);
                assertClose(refGrad, grad4, "backward");
            }
        }
    }

    @Test
    void arraysApiMatchesOnEveryBackend() {
        float[] logits = {1f, 2f, 3f, -1f, 0f, Float.NEGATIVE_INFINITY, 1e4f, -1e4f, 0f};
        int[] targets = {2, 0, 0};
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).build()) {
                SoftmaxCrossEntropy.Result r = ce.forwardBackward(logits, targets, 3, 3);
                // PyTorch 1.13, float64: F.cross_entropy(x, y) and its gradient
                assertEquals(0.5736225506542011, r.loss()[0], 1e-6, b + " loss");
                assertClose(new float[] {0.030010191f, 0.081576157f, -0.111586348f, -0.243686193f, 0.243686193f, 0f, 0f, 0f, 0f},
                        r.gradLogits(), b + " grad", 1e-6);
            }
        }
    }

    @Test
    void theReducedLossIsTheSameBitsEveryRun() {
        Backend nat = nativeBackend();
        Random rnd = new Random(3);
        int n = 2000, c = 37;
        float[] logits = new float[n * c];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        int[] targets = rnd.ints(n, 0, c).toArray();
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(nat).labelSmoothing(0.1f).build()) {
            SoftmaxCrossEntropy.Result first = ce.forwardBackward(logits, targets, n, c);
            for (int k = 0; k < 3; k++) {
                SoftmaxCrossEntropy.Result again = ce.forwardBackward(logits, targets, n, c);
                assertEquals(Float.floatToRawIntBits(first.loss()[0]), Float.floatToRawIntBits(again.loss()[0]));
                assertArrayEquals(first.gradLogits(), again.gradLogits());
            }
        }
    }




}
