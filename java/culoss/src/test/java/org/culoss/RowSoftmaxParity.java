package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.DirectBuffers;
import org.culoss.testing.FusedResults;
import org.culoss.testing.RandomInputs;
import org.culoss.testing.TestArrays;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The parity tests of the row-softmax losses (softmax cross-entropy, softmax focal), held to one
 * list of checks: on random and awkward shapes, the native backend of this JVM against the java
 * backend (itself checked against a float64 reference and finite differences), through every way
 * of calling: heap buffers with row strides, direct buffers with every row unaligned, forward
 * alone and backward alone, and backend memory with a workspace, fused and forward + backward;
 * the arrays API against PyTorch on every backend; the reduced loss the same bits every run.
 */
final class RowSoftmaxParity {
    private RowSoftmaxParity() {}

    /** One loss with its own options set, on a backend, with the per-class table (weights, alpha) or null. */
    interface Factory {
        RowSoftmaxLoss<?> build(Backend backend, float[] perClass);
    }

    /**
     * The shapes every row-softmax loss runs on: n, c, logits stride padding, reduction, per-class
     * table, the loss's own option (one of {@code option} a shape, in order), ignore index -100.
     */
    static Stream<Arguments> shapes(float... option) {
        Object[][] shapes = {
            {0, 5, 0, Reduction.MEAN, false, true},
            {1, 1, 0, Reduction.SUM, false, true},
            {7, 1, 3, Reduction.NONE, true, true},
            {33, 7, 1, Reduction.MEAN, true, true},
            {64, 10, 0, Reduction.MEAN, false, false},
            {5, 33, 2, Reduction.NONE, false, true},
            {9, 1000, 0, Reduction.SUM, true, true},
            {3, 1023, 5, Reduction.MEAN, true, true},
            {2, 4097, 0, Reduction.NONE, false, false},
            {2, 50000, 1, Reduction.MEAN, true, true}};
        assertEquals(shapes.length, option.length, "one option value a shape");
        return IntStream.range(0, shapes.length).mapToObj(i -> {
            Object[] s = shapes[i];
            return Arguments.of(s[0], s[1], s[2], s[3], s[4], option[i], s[5]);
        });
    }

    static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    /** {@code builder} set to ignore index -100 when {@code ignore}, else to no ignore index. */
    static <B extends RowSoftmaxLoss.RowsBuilder<B>> B ignoring(B builder, boolean ignore) {
        return ignore ? builder.ignoreIndex(-100) : builder.noIgnoreIndex();
    }

    /** One random case of {@link #shapes} through every API of the native backend, against the java backend. */
    static void nativeMatchesJavaOnEveryApi(Factory factory, int n, int c, int pad, Reduction r, boolean perClass,
            boolean ignore) {
        Backend nat = nativeBackend();
        Random rnd = new Random(n * 31L + c);
        int stride = c + pad;
        float[] logits = RandomInputs.gaussian(rnd, Math.max(0, (n - 1) * stride + c), 3);
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) targets[i] = ignore && rnd.nextInt(5) == 0 ? -100 : rnd.nextInt(c);
        float[] table = perClass ? RandomInputs.uniform(rnd, c, 0.1f, 1f) : null;
        float[] gradOutput = new float[r == Reduction.NONE ? n : 1];
        for (int i = 0; i < gradOutput.length; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;

        int lossLength = gradOutput.length;
        float[] refLoss = new float[lossLength];
        float[] refGrad = new float[logits.length];
        try (RowSoftmaxLoss<?> java = factory.build(Culoss.java(), table);
                RowSoftmaxLoss<?> loss = factory.build(nat, table)) {
            java.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(refLoss), FloatBuffer.wrap(refGrad), stride);

            // 1. heap buffers with strides
            float[] loss1 = new float[lossLength];
            float[] grad1 = new float[logits.length];
            loss.forwardBackward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(loss1), FloatBuffer.wrap(grad1), stride);
            assertClose(refLoss, loss1, "heap loss");
            assertClose(refGrad, grad1, "heap grad");

            // 2. direct buffers, one float past an aligned start: every row unaligned
            FloatBuffer dLoss = TestArrays.direct(lossLength);
            FloatBuffer dGrad = DirectBuffers.unaligned(logits.length);
            loss.forwardBackward(DirectBuffers.unaligned(logits), stride, DirectBuffers.ints(targets), n, c,
                    FloatBuffer.wrap(gradOutput), dLoss, dGrad, stride);
            assertClose(refLoss, toArray(dLoss, lossLength), "direct loss");
            assertClose(refGrad, toArray(dGrad, logits.length), "direct grad");
            if (n == 0) return;

            // 3. forward alone and backward alone, on heap buffers
            float[] loss3 = new float[lossLength];
            loss.forward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c, FloatBuffer.wrap(loss3));
            assertClose(refLoss, loss3, "forward");
            float[] grad3 = new float[logits.length];
            loss.backward(FloatBuffer.wrap(logits), stride, IntBuffer.wrap(targets), n, c,
                    FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(grad3), stride);
            assertClose(refGrad, grad3, "backward");

            // 4. backend memory, queued on the default stream, with a workspace: fused, forward, backward
            try (BackendMemory mem = new BackendMemory(nat)) {
                DeviceBuffer x = mem.floats(logits);
                DeviceBuffer y = mem.ints(targets);
                DeviceBuffer go = mem.floats(gradOutput);
                DeviceBuffer l = mem.floats(lossLength);
                DeviceBuffer g = mem.floats(logits.length);
                DeviceBuffer ws = mem.add(loss.allocateWorkspace(n, c));
                loss.forwardBackward(x, stride, y, n, c, go, l, g, stride, ws);
                loss.checkErrors(ws, 0);
                assertDevice(refLoss, refGrad, l, g, n, c, stride, "device fused");
                nat.fill(l.address(), 0, l.bytes(), 0);
                nat.fill(g.address(), 0, g.bytes(), 0);
                loss.forward(x, stride, y, n, c, l, ws);
                loss.backward(x, stride, y, n, c, go, g, stride, ws);
                loss.checkErrors(ws, 0);
                assertDevice(refLoss, refGrad, l, g, n, c, stride, "device forward + backward");
            }
        }
    }

    /**
     * The loss in backend memory, and the gradient's rows (the padding of device memory is
     * undefined): close as a whole, and each element within 1e-5 (1 + |reference|).
     */
    private static void assertDevice(float[] refLoss, float[] refGrad, DeviceBuffer l, DeviceBuffer g, int n, int c,
            int stride, String what) {
        float[] loss = new float[refLoss.length];
        float[] grad = new float[refGrad.length];
        l.copyTo(loss);
        g.copyTo(grad);
        assertClose(refLoss, loss, what + " loss");
        float[] refRows = new float[n * c];
        float[] rows = new float[n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(refGrad, i * stride, refRows, i * c, c);
            System.arraycopy(grad, i * stride, rows, i * c, c);
        }
        assertClose(refRows, rows, what + " grad");
        for (int k = 0; k < rows.length; k++) {
            assertEquals(refRows[k], rows[k], 1e-5f * (1f + Math.abs(refRows[k])), what + " grad");
        }
    }

    /** The arrays API on {@code logits} (3 x 3, with -inf and +-1e4) and {@code targets}: PyTorch's values on every backend. */
    static void arraysApiMatchesOnEveryBackend(Function<Backend, RowSoftmaxLoss<?>> make, double expectedLoss,
            float[] expectedGrad) {
        float[] logits = {1f, 2f, 3f, -1f, 0f, Float.NEGATIVE_INFINITY, 1e4f, -1e4f, 0f};
        int[] targets = {2, 0, 0};
        for (Backend b : BackendsUnderTest.all()) {
            try (RowSoftmaxLoss<?> loss = make.apply(b)) {
                float[][] r = FusedResults.lossAndGrad(loss.forwardBackward(logits, targets, 3, 3));
                assertEquals(expectedLoss, r[0][0], 1e-6, b + " loss");
                assertClose(expectedGrad, r[1], b + " grad", 1e-6);
            }
        }
    }

    /** The reduced loss and the gradient of 2000 rows of 37 classes, the same bits in four runs on the native backend. */
    static void theReducedLossIsTheSameBitsEveryRun(Function<Backend, RowSoftmaxLoss<?>> make) {
        Backend nat = nativeBackend();
        Random rnd = new Random(3);
        int n = 2000, c = 37;
        float[] logits = RandomInputs.gaussian(rnd, n * c, 1);
        int[] targets = rnd.ints(n, 0, c).toArray();
        try (RowSoftmaxLoss<?> loss = make.apply(nat)) {
            float[][] first = FusedResults.lossAndGrad(loss.forwardBackward(logits, targets, n, c));
            for (int k = 0; k < 3; k++) {
                float[][] again = FusedResults.lossAndGrad(loss.forwardBackward(logits, targets, n, c));
                assertEquals(Float.floatToRawIntBits(first[0][0]), Float.floatToRawIntBits(again[0][0]));
                assertArrayEquals(first[1], again[1]);
            }
        }
    }
}
