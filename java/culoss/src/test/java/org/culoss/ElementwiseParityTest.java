package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.culoss.testing.DirectBuffers;
import org.culoss.testing.FusedResults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The elementwise losses (sigmoid focal, smooth L1, Huber): the native backend of this JVM against
 * the java backend (itself checked against float64 references and finite differences), through
 * every way of calling: arrays, heap buffers with a position, direct buffers one float off
 * alignment, backend memory with a workspace, forward alone and backward alone.
 */
class ElementwiseParityTest {

    /** One loss with its options, on one backend, named for the messages. */
    record Loss(ElementwiseLoss<?> api, String name) {
        float[] forward(float[] x, float[] t) {
            return api.forward(x, t);
        }

        float[] backward(float[] x, float[] t, float[] gradOutput) {
            return api.backward(x, t, gradOutput);
        }

        /** {loss, grad}. */
        float[][] forwardBackward(float[] x, float[] t, float[] gradOutput) {
            return FusedResults.lossAndGrad(api.forwardBackward(x, t, gradOutput));
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Loss focal(Backend b, Reduction r, float alpha, float gamma) {
        return new Loss(SigmoidFocal.builder().backend(b).reduction(r).alpha(alpha).gamma(gamma).build(),
                "sigmoid_focal alpha=" + alpha + " gamma=" + gamma + " " + r);
    }

    static Loss smoothL1(Backend b, Reduction r, float beta) {
        return new Loss(SmoothL1.builder().backend(b).reduction(r).beta(beta).build(), "smooth_l1 beta=" + beta + " " + r);
    }

    static Loss huber(Backend b, Reduction r, float delta) {
        return new Loss(Huber.builder().backend(b).reduction(r).delta(delta).build(), "huber delta=" + delta + " " + r);
    }

    /** kind 0 focal (a = alpha, b = gamma), 1 smooth L1 (a = beta), 2 Huber (a = delta). */
    static Loss make(int kind, Backend backend, Reduction r, float a, float b) {
        return kind == 0 ? focal(backend, r, a, b) : kind == 1 ? smoothL1(backend, r, a) : huber(backend, r, a);
    }

    static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[] counts = {0, 1, 7, 33, 1000, 4099, 70001};
        int k = 0;
        for (Reduction r : Reduction.values()) {
            float[][] options = {{0, 0.25f, 2f}, {0, -1f, 0f}, {0, 0.25f, 0.5f}, {1, 1f, 0}, {1, 0f, 0}, {2, 1f, 0},
                {2, 0.5f, 0}};
            for (float[] o : options) {
                out.add(Arguments.of((int) o[0], r, o[1], o[2], counts[k++ % counts.length]));
            }
        }
        return out.stream();
    }

    static float[][] inputs(int kind, int count, Random rnd) {
        float[] x = new float[count];
        float[] t = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) rnd.nextGaussian() * 3f;
            if (kind == 0) {
                int pick = rnd.nextInt(4);
                t[i] = pick == 0 ? 0f : pick == 1 ? 1f : rnd.nextFloat();
                if (rnd.nextInt(32) == 0) x[i] = rnd.nextBoolean() ? 100f : -1e4f;
            } else {
                t[i] = rnd.nextInt(8) == 0 ? x[i] : (float) (x[i] + rnd.nextGaussian() * 1.5);
            }
        }
        return new float[][] {x, t};
    }

    @ParameterizedTest(name = "kind={0} {1} a={2} b={3} count={4}")
    @MethodSource("cases")
    void nativeMatchesJavaOnEveryApi(int kind, Reduction r, float a, float b, int count) {
        Backend nat = nativeBackend();
        Random rnd = new Random(count * 31L + kind);
        float[][] in = inputs(kind, count, rnd);
        float[] x = in[0];
        float[] t = in[1];
        int lossLength = r == Reduction.NONE ? count : 1;
        float[] gradOutput = new float[lossLength];
        for (int i = 0; i < lossLength; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;

        Loss java = make(kind, Culoss.java(), r, a, b);
        Loss loss = make(kind, nat, r, a, b);
        String what = loss + " count=" + count;
        float[][] ref = java.forwardBackward(x, t, gradOutput);

        // 1. arrays: fused, forward alone, backward alone
        float[][] got = loss.forwardBackward(x, t, gradOutput);
        assertClose(ref[0], got[0], what + " array loss");
        assertClose(ref[1], got[1], what + " array grad");
        assertClose(ref[0], loss.forward(x, t), what + " forward");
        assertClose(ref[1], loss.backward(x, t, gradOutput), what + " backward");

        ElementwiseLoss<?> api = loss.api();
        // 2. heap buffers with a position (a slice of a bigger array)
        float[] lossBacking = new float[lossLength + 3];
        float[] gradBacking = new float[count + 3];
        api.forwardBackward(FloatBuffer.wrap(pad(x, 2)).position(2), FloatBuffer.wrap(pad(t, 1)).position(1), count,
                FloatBuffer.wrap(gradOutput), FloatBuffer.wrap(lossBacking).position(3),
                FloatBuffer.wrap(gradBacking).position(3));
        assertClose(ref[0], slice(lossBacking, 3, lossLength), what + " heap loss");
        assertClose(ref[1], slice(gradBacking, 3, count), what + " heap grad");

        // 3. direct buffers one float past an aligned start: the scalar path, and the same bits as
        //    the aligned 16-byte path
        FloatBuffer dLoss = DirectBuffers.unaligned(lossLength);
        FloatBuffer dGrad = DirectBuffers.unaligned(count);
        api.forwardBackward(DirectBuffers.unaligned(x), DirectBuffers.unaligned(t), count, FloatBuffer.wrap(gradOutput),
                dLoss, dGrad);
        float[] unalignedLoss = toArray(dLoss, lossLength);
        float[] unalignedGrad = toArray(dGrad, count);
        assertArrayEquals(got[0], unalignedLoss, what + ": unaligned loss bits");
        assertArrayEquals(got[1], unalignedGrad, what + ": unaligned grad bits");

        // 4. backend memory: forward, backward and fused, with the workspace the loss asks for
        if (count > 0) {
            try (BackendMemory mem = new BackendMemory(nat)) {
                DeviceBuffer bx = mem.floats(x);
                DeviceBuffer bt = mem.floats(t);
                DeviceBuffer go = mem.floats(gradOutput);
                DeviceBuffer l = mem.floats(lossLength);
                DeviceBuffer g = mem.floats(count);
                DeviceBuffer ws = mem.add(api.allocateWorkspace(count));
                api.forwardBackward(bx, bt, count, go, l, g, ws);
                float[] l3 = new float[lossLength];
                float[] g3 = new float[count];
                l.copyTo(l3);
                g.copyTo(g3);
                assertArrayEquals(got[0], l3, what + " device loss");
                assertArrayEquals(got[1], g3, what + " device grad");
                api.forward(bx, bt, count, l, r == Reduction.NONE ? null : ws);
                l.copyTo(l3);
                assertArrayEquals(got[0], l3, what + " device forward");
                api.backward(bx, bt, count, go, g);
                g.copyTo(g3);
                assertArrayEquals(got[1], g3, what + " device backward");
            }
        }
    }

    @Test
    void theReducedLossIsTheSameBitsEveryRun() {
        Backend nat = nativeBackend();
        Random rnd = new Random(3);
        for (int kind = 0; kind < 3; kind++) {
            float[][] in = inputs(kind, 30001, rnd);
            Loss loss = make(kind, nat, Reduction.MEAN, kind == 0 ? 0.25f : 1f, 2f);
            float[][] first = loss.forwardBackward(in[0], in[1], null);
            for (int k = 0; k < 2; k++) {
                float[][] again = loss.forwardBackward(in[0], in[1], null);
                assertEquals(Float.floatToRawIntBits(first[0][0]), Float.floatToRawIntBits(again[0][0]), loss.toString());
                assertArrayEquals(first[1], again[1], loss.toString());
            }
        }
    }

    @Test
    void arraysApiMatchesPyTorchOnEveryBackend() {
        // PyTorch 1.13, float64 (torchvision's formula written out for the focal loss).
        float[] x = {-2f, -0.5f, 0f, 0.5f, 3f, 40f};
        float[] t = {0f, 1f, 0.5f, 0.25f, 1f, 0f};
        for (Backend b : BackendsUnderTest.all()) {
            Loss f = focal(b, Reduction.SUM, 0.25f, 2f);
            float[][] r = f.forwardBackward(x, t, null);
            assertEquals(30.3495270386, r[0][0], 3e-4, b + " focal loss");
            assertClose(new float[] {3.6532051465e-03f, -1.3153795547e-01f, 0f, 1.4331401812e-01f, -7.8717961622e-05f, 0.75f}, r[1],
                    b + " focal grad", 1e-6);

            Loss s = smoothL1(b, Reduction.MEAN, 1f);
            float[][] r2 = s.forwardBackward(x, t, null);
            assertEquals(7.2760416667, r2[0][0], 1e-5, b + " smooth_l1 loss");
            assertClose(new float[] {-1f / 6, -1f / 6, -1f / 12, 1f / 24, 1f / 6, 1f / 6}, r2[1], b + " smooth_l1 grad",
                    1e-6);

            Loss h = huber(b, Reduction.NONE, 2f);
            float[][] r3 = h.forwardBackward(x, t, null);
            assertClose(new float[] {2f, 1.125f, 0.125f, 0.03125f, 2f, 78f}, r3[0], b + " huber loss", 1e-6);
            assertClose(new float[] {-2f, -1.5f, -0.5f, 0.25f, 2f, 2f}, r3[1], b + " huber grad", 1e-6);
        }
    }

    private static float[] pad(float[] a, int before) {
        float[] out = new float[a.length + before];
        System.arraycopy(a, 0, out, before, a.length);
        return out;
    }

    private static float[] slice(float[] a, int from, int length) {
        float[] out = new float[length];
        System.arraycopy(a, from, out, 0, length);
        return out;
    }

    @Test
    void saturatedFocalIsFiniteOnEveryBackend() {
        float[] x = {30f, -30f, 100f, -100f, 1e4f, -1e4f, 1e4f, -1e4f};
        float[] t = {1f, 0f, 1f, 0f, 1f, 0f, 0.3f, 0.7f};
        for (Backend b : BackendsUnderTest.all()) {
            for (float gamma : new float[] {0f, 0.5f, 2f}) {
                float[][] r = focal(b, Reduction.NONE, 0.25f, gamma).forwardBackward(x, t, null);
                for (int i = 0; i < x.length; i++) {
                    assertTrue(Float.isFinite(r[0][i]) && Float.isFinite(r[1][i]),
                            b + " gamma=" + gamma + " x=" + x[i] + " t=" + t[i]);
                }
            }
        }
    }

    /** Huber with an infinite delta is the quadratic loss everywhere, as PyTorch gives it (java gave NaN). */
    @Test
    void huberWithAnInfiniteDeltaIsQuadraticOnEveryBackend() {
        float[] x = {3f, -2f, 0.5f, 1e3f};
        float[] t = {0f, 1f, 0.5f, -1e3f};
        float[] loss = new float[x.length];
        float[] grad = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            double d = (double) x[i] - t[i];
            loss[i] = (float) (0.5 * d * d);
            grad[i] = (float) d;
        }
        for (Backend b : BackendsUnderTest.all()) {
            try (Huber h = Huber.builder().backend(b).reduction(Reduction.NONE).delta(Float.POSITIVE_INFINITY).build()) {
                Huber.Result r = h.forwardBackward(x, t);
                assertClose(loss, r.loss(), b + ": loss");
                assertClose(grad, r.gradInput(), b + ": gradient");
            }
        }
    }
}
