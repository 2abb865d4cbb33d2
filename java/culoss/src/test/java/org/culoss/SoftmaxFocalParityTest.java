package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Softmax focal: the native backend of this JVM against the java backend (itself checked against
 * a float64 reference and finite differences), on random and awkward shapes, through every way
 * of calling: arrays, heap and direct buffers with row strides and unaligned rows, and backend
 * memory, each fused, forward-only and backward-only.
 */
class SoftmaxFocalParityTest {

    static Stream<Arguments> shapes() {
        // n, c, logits stride padding, reduction, per-class alpha, gamma, ignore
        return Stream.of(
                Arguments.of(0, 5, 0, Reduction.MEAN, false, 2f, true),
                Arguments.of(1, 1, 0, Reduction.SUM, false, 2f, true),
                Arguments.of(7, 1, 3, Reduction.NONE, true, 0.5f, true),
                Arguments.of(33, 7, 1, Reduction.MEAN, true, 2f, true),
                Arguments.of(64, 10, 0, Reduction.MEAN, false, 0f, false),
                Arguments.of(5, 33, 2, Reduction.NONE, false, 3.5f, true),
                Arguments.of(9, 1000, 0, Reduction.SUM, true, 1f, true),
                Arguments.of(3, 1023, 5, Reduction.MEAN, true, 0.5f, true),
                Arguments.of(2, 4097, 0, Reduction.NONE, false, 2f, false),
                Arguments.of(2, 50000, 1, Reduction.MEAN, true, 2f, true));
    }

    private static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    private static SoftmaxFocal loss(Backend b, Reduction r, float[] classAlpha, float gamma, boolean ignore) {
        SoftmaxFocal.Builder builder = SoftmaxFocal.builder().backend(b).reduction(r).gamma(gamma).alpha(0.25f)
                .classAlpha(classAlpha);
        return (ignore ? builder.ignoreIndex(-100) : builder.noIgnoreIndex()).build();
    }

    @ParameterizedTest(name = "n={0} c={1} pad={2} {3} perClass={4} gamma={5} ignore={6}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int c, int pad, Reduction r, boolean perClass, float gamma,
            boolean ignore) {
        Backend nat = nativeBackend();
        Random rnd = new Random(n * 31L + c);
        int stride = c + pad;
        float[] logits = new float[Math.max(0, (n - 1) * stride + c)];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian() * 3f;
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) targets[i] = ignore && rnd.nextInt(5) == 0 ? -100 : rnd.nextInt(c);
        float[] classAlpha = null;
        if (perClass) {
            classAlpha = new float[c];
            for (int j = 0; j < c; j++) classAlpha[j] = 0.1f + rnd.nextFloat();
        }
        float[] gradOutput = new float[r == Reduction.NONE ? n : 1];
        for (int i = 0; i < gradOutput.length; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;

        int lossLength = r == Reduction.NONE ? n : 1;
        float[] refLoss = new float[lossLength];
        float[] refGrad = new float[logits.length];
        try (SoftmaxFocal java = loss(Culoss.java(), r, classAlpha, gamma, ignore);
                SoftmaxFocal focal = loss(nat, r, classAlpha, gamma, ignore)) {
            java.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(refLoss), FloatBuffer.wrap(refGrad), stride);

            // 1. heap buffers with strides
            float[] loss1 = new float[lossLength];
            float[] grad1 = new float[logits.length];
            focal.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
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
            focal.forwardBackward(dLogits, stride, dTargets, n, c, FloatBuffer.wrap(gradOutput), dLoss, dGrad, stride);
            assertClose(refLoss, toArray(dLoss, lossLength), "direct loss");
            assertClose(refGrad, toArray(dGrad, logits.length), "direct grad");

            // 3. forward alone and backward alone, on heap buffers
            if (n > 0) {
                float[] loss3 = new float[lossLength];
                focal.forward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c, FloatBuffer.wrap(loss3));
                assertClose(refLoss, loss3, "forward");
                float[] grad3 = new float[logits.length];
                focal.backward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                        FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(grad3), stride);
                assertClose(refGrad, grad3, "backward");
            }

            // 4. backend memory, queued on the default stream, with a workspace: fused, forward, backward
            if (n > 0) {
                try (DeviceBuffer x = nat.allocateFloats(logits.length);
                        DeviceBuffer y = nat.allocateInts(n);
                        DeviceBuffer go = nat.allocateFloats(gradOutput.length);
                        DeviceBuffer l = nat.allocateFloats(lossLength);
                        DeviceBuffer g = nat.allocateFloats(logits.length);
                        DeviceBuffer ws = focal.allocateWorkspace(n, c)) {
                    x.copyFrom(logits);
                    y.copyFrom(targets);
                    go.copyFrom(gradOutput);
                    focal.forwardBackward(x, stride, y, n, c, go, l, g, stride, ws);
                    focal.checkErrors(ws, 0);
                    assertDevice(refLoss, refGrad, l, g, n, c, stride, "device fused");
                    nat.fill(l.address(), 0, l.bytes(), 0);
                    nat.fill(g.address(), 0, g.bytes(), 0);
                    focal.forward(x, stride, y, n, c, l, ws);
                    focal.backward(x, stride, y, n, c, go, g, stride, ws);
                    focal.checkErrors(ws, 0);
                    assertDevice(refLoss, refGrad, l, g, n, c, stride, "device forward + backward");
                }
            }
        }
    }

    private static void assertDevice(float[] refLoss, float[] refGrad, DeviceBuffer l, DeviceBuffer g, int n, int c,
            int stride, String what) {
        float[] loss = new float[refLoss.length];
        float[] grad = new float[refGrad.length];
        l.copyTo(loss);
        g.copyTo(grad);
        assertClose(refLoss, loss, what + " loss");
        float[] refRows = new float[n * c];
        float[] rows = new float[n * c];
        for (int i = 0; i < n; i++) {  // the padding of device memory is undefined: compare rows
            System.arraycopy(refGrad, i * stride, refRows, i * c, c);
            System.arraycopy(grad, i * stride, rows, i * c, c);
        }
        assertClose(refRows, rows, what + " grad");
    }

    @Test
    void arraysApiMatchesPyTorchOnEveryBackend() {
        float[] logits = {1f, 2f, 3f, -1f, 0f, Float.NEGATIVE_INFINITY, 1e4f, -1e4f, 0f};
        int[] targets = {2, 0, 0};
        float[] alpha = {0.5f, 1f, 2f};
        for (Backend b : BackendsUnderTest.all()) {
            try (SoftmaxFocal f = SoftmaxFocal.builder().backend(b).classAlpha(alpha).build()) {
                SoftmaxFocal.Result r = f.forwardBackward(logits, targets, 3, 3);
                // PyTorch 1.13, float64 autograd of -alpha[y] * (1 - p_y)^2 * log p_y, mean over 3 rows
                assertEquals(0.14742991654715412, r.loss()[0], 1e-6, b + " loss");
                assertClose(new float[] {0.0176224395f, 0.04790275706f, -0.06552519656f, -0.1280391205f,
                        0.1280391205f, 0f, 0f, 0f, 0f}, r.gradLogits(), b + " grad", 1e-6);
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
        try (SoftmaxFocal f = SoftmaxFocal.builder().backend(nat).gamma(1.5f).build()) {
            SoftmaxFocal.Result first = f.forwardBackward(logits, targets, n, c);
            for (int k = 0; k < 3; k++) {
                SoftmaxFocal.Result again = f.forwardBackward(logits, targets, n, c);
                assertEquals(Float.floatToRawIntBits(first.loss()[0]), Float.floatToRawIntBits(again.loss()[0]));
                assertArrayEquals(first.gradLogits(), again.gradLogits());
            }
        }
    }
}
