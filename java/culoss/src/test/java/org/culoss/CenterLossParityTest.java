package org.culoss;

import static org.culoss.testing.TestArrays.assertClose;
import static org.culoss.testing.DirectBuffers.ints;
import static org.culoss.testing.DirectBuffers.unaligned;
import static org.culoss.testing.TestArrays.direct;
import static org.culoss.testing.TestArrays.toArray;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendMemory;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Center loss: the native backend of this JVM against the java backend (itself checked against a
 * float64 reference and finite differences) through every way of calling it (arrays, heap and
 * direct buffers with unaligned rows, backend memory; forward, backward with either gradient,
 * fused, the update), the update's bit-identical reruns on both, and bad labels.
 */
class CenterLossParityTest {

    static Stream<Arguments> shapes() {
        // n, d, c, reduction, labels (0 random, 1 one class, 2 even classes only)
        return Stream.of(
                Arguments.of(0, 4, 3, Reduction.MEAN, 0),
                Arguments.of(1, 1, 1, Reduction.SUM, 0),
                Arguments.of(7, 3, 1, Reduction.NONE, 0),
                Arguments.of(33, 5, 6, Reduction.MEAN, 2),
                Arguments.of(64, 8, 10, Reduction.NONE, 1),
                Arguments.of(100, 130, 7, Reduction.SUM, 0),
                Arguments.of(300, 16, 3000, Reduction.MEAN, 0),
                Arguments.of(1500, 2, 5, Reduction.MEAN, 1));
    }

    private static Backend nativeBackend() {
        Backend b = BackendsUnderTest.nativeOrNull();
        assumeTrue(b != null, BackendsUnderTest::whyNoNative);
        return b;
    }

    private static CenterLoss loss(Backend b, Reduction r) {
        return CenterLoss.builder().backend(b).reduction(r).lambda(0.7f).alpha(0.4f).build();
    }

    static final class Inputs {
        final float[] x, centers, gradOutput;
        final int[] y;

        Inputs(int n, int d, int c, Reduction r, int labels, long seed) {
            Random rnd = new Random(seed);
            x = new float[n * d];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            centers = new float[c * d];
            for (int i = 0; i < centers.length; i++) centers[i] = (float) (0.5 * rnd.nextGaussian());
            y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = labels == 0 ? rnd.nextInt(c) : labels == 1 ? c - 1 : 2 * rnd.nextInt((c + 1) / 2);
            }
            gradOutput = new float[r == Reduction.NONE ? n : 1];
            for (int i = 0; i < gradOutput.length; i++) gradOutput[i] = rnd.nextFloat() * 2f - 1f;
        }
    }

    @ParameterizedTest(name = "n={0} d={1} c={2} {3} labels={4}")
    @MethodSource("shapes")
    void nativeMatchesJavaOnEveryApi(int n, int d, int c, Reduction r, int labels) {
        Backend nat = nativeBackend();
        Inputs in = new Inputs(n, d, c, r, labels, 1000L * n + 31L * d + c);
        int lossLength = r == Reduction.NONE ? n : 1;
        CenterLoss java = loss(Culoss.java(), r);
        CenterLoss center = loss(nat, r);

        float[] refLoss = new float[lossLength];
        float[] refGf = new float[n * d];
        float[] refGc = new float[c * d];
        java.forwardBackward(FloatBuffer.wrap(in.x), IntBuffer.wrap(in.y), FloatBuffer.wrap(in.centers), n, d, c,
                FloatBuffer.wrap(in.gradOutput), FloatBuffer.wrap(refLoss), FloatBuffer.wrap(refGf),
                FloatBuffer.wrap(refGc));
        float[] refUpdate = in.centers.clone();
        java.updateCenters(in.x, in.y, refUpdate, n, d, c);

        // 1. arrays
        CenterLoss.Result a = center.forwardBackward(in.x, in.y, in.centers, n, d, c, in.gradOutput, true);
        assertClose(refLoss, a.loss(), "arrays loss");
        assertClose(refGf, a.gradFeatures(), "arrays gradFeatures");
        assertClose(refGc, a.gradCenters(), "arrays gradCenters");
        assertNull(center.forwardBackward(in.x, in.y, in.centers, n, d, c, in.gradOutput).gradCenters());
        float[] updated = in.centers.clone();
        center.updateCenters(in.x, in.y, updated, n, d, c);
        assertClose(refUpdate, updated, "arrays update");

        // 2. heap buffers, forward alone, backward with each gradient alone
        float[] loss2 = new float[lossLength];
        center.forward(FloatBuffer.wrap(in.x), IntBuffer.wrap(in.y), FloatBuffer.wrap(in.centers), n, d, c,
                FloatBuffer.wrap(loss2));
        assertClose(refLoss, loss2, "forward");
        float[] gf2 = new float[n * d];
        center.backward(FloatBuffer.wrap(in.x), IntBuffer.wrap(in.y), FloatBuffer.wrap(in.centers), n, d, c,
                FloatBuffer.wrap(in.gradOutput), FloatBuffer.wrap(gf2), null);
        assertClose(refGf, gf2, "backward gradFeatures");
        float[] gc2 = new float[c * d];
        center.backward(FloatBuffer.wrap(in.x), IntBuffer.wrap(in.y), FloatBuffer.wrap(in.centers), n, d, c,
                FloatBuffer.wrap(in.gradOutput), null, FloatBuffer.wrap(gc2));
        assertClose(refGc, gc2, "backward gradCenters");

        // 3. direct buffers, unaligned
        FloatBuffer dLoss = direct(lossLength);
        FloatBuffer dGf = unaligned(n * d);
        FloatBuffer dGc = unaligned(c * d);
        center.forwardBackward(unaligned(in.x), ints(in.y), unaligned(in.centers), n, d, c,
                unaligned(in.gradOutput), dLoss, dGf, dGc);
        assertClose(refLoss, toArray(dLoss, lossLength), "direct loss");
        assertClose(refGf, toArray(dGf, n * d), "direct gradFeatures");
        assertClose(refGc, toArray(dGc, c * d), "direct gradCenters");
        FloatBuffer dCenters = unaligned(in.centers);
        center.updateCenters(unaligned(in.x), ints(in.y), dCenters, n, d, c);
        assertClose(refUpdate, toArray(dCenters, c * d), "direct update");

        // 4. backend memory, with a workspace, then the update queued after the loss
        if (n > 0) {
            try (BackendMemory mem = new BackendMemory(nat)) {
                DeviceBuffer x = mem.floats(in.x);
                DeviceBuffer y = mem.ints(in.y);
                DeviceBuffer cs = mem.floats(in.centers);
                DeviceBuffer go = mem.floats(in.gradOutput);
                DeviceBuffer l = mem.floats(lossLength);
                DeviceBuffer gf = mem.floats(n * d);
                DeviceBuffer gc = mem.floats(c * d);
                DeviceBuffer ws = mem.add(center.allocateWorkspace(n, d, c));
                center.forwardBackward(x, y, cs, n, d, c, go, l, gf, gc, ws);
                center.updateCenters(x, y, cs, n, d, c, ws);
                center.checkErrors(ws, 0);
                float[] loss4 = new float[lossLength];
                float[] gf4 = new float[n * d];
                float[] gc4 = new float[c * d];
                float[] cs4 = new float[c * d];
                l.copyTo(loss4);
                gf.copyTo(gf4);
                gc.copyTo(gc4);
                cs.copyTo(cs4);
                assertClose(refLoss, loss4, "device loss (of the old centers)");
                assertClose(refGf, gf4, "device gradFeatures");
                assertClose(refGc, gc4, "device gradCenters");
                assertClose(refUpdate, cs4, "device update");

                float[] loss5 = new float[lossLength];
                cs.copyFrom(in.centers);
                center.forward(x, y, cs, n, d, c, l, ws);
                center.backward(x, y, cs, n, d, c, go, null, gc, ws);
                l.copyTo(loss5);
                gc.copyTo(gc4);
                assertClose(refLoss, loss5, "device forward");
                assertClose(refGc, gc4, "device backward gradCenters");
            }
        }
    }

    @Test
    void arraysApiMatchesOnEveryBackend() {
        // n = 3, d = 2, c = 2, worked out by hand below
        float[] x = {1f, 2f, -1f, 0.5f, 3f, -2f};
        int[] y = {0, 1, 0};
        float[] centers = {0.5f, 1f, -0.5f, -0.5f};
        for (Backend b : BackendsUnderTest.all()) {
            CenterLoss center = CenterLoss.builder().backend(b).build();
            CenterLoss.Result r = center.forwardBackward(x, y, centers, 3, 2, 2, null, true);
            // rows: 0.5*(0.25+1) = 0.625, 0.5*(0.25+1) = 0.625, 0.5*(6.25+9) = 7.625; mean 8.875/3
            assertEquals(8.875 / 3, r.loss()[0], 1e-6, b + " loss");
            assertClose(new float[] {0.5f / 3, 1f / 3, -0.5f / 3, 1f / 3, 2.5f / 3, -3f / 3}, r.gradFeatures(),
                    b + " gradFeatures", 1e-6);
            assertClose(new float[] {-3f / 3, 2f / 3, 0.5f / 3, -1f / 3}, r.gradCenters(), b + " gradCenters", 1e-6);
            float[] updated = centers.clone();
            center.updateCenters(x, y, updated, 3, 2, 2);
            // class 0: sum (c - x) = (0.5-1 + 0.5-3, 1-2 + 1+2) = (-3, 2); c - 0.5 * that / 3
            // class 1: (-0.5+1, -0.5-0.5) = (0.5, -1); c - 0.5 * that / 2
            assertClose(new float[] {0.5f + 0.5f, 1f - 1f / 3, -0.5f - 0.125f, -0.5f + 0.25f}, updated,
                    b + " update", 1e-6);
        }
    }

    /**
     * The determinism requirement: 50 center updates of the same inputs give the same bits
     * every time on the native backend and on the java backend with several thread counts, and the
     * two backends agree within the tolerance.
     */
    @Test
    void theUpdateIsTheSameBitsEveryRun() {
        int n = 2000, d = 24, c = 37;
        Inputs in = new Inputs(n, d, c, Reduction.MEAN, 0, 77);
        for (int i = 0; i < n; i += 4) in.y[i] = 5;  // one big class beside many small ones
        float[] javaFirst = null;
        for (int threads : new int[] {1, 2, 3, 8}) {
            CenterLoss java = loss(Culoss.java(threads), Reduction.MEAN);
            for (int run = 0; run < 50; run++) {
                float[] cs = in.centers.clone();
                java.updateCenters(in.x, in.y, cs, n, d, c);
                if (javaFirst == null) javaFirst = cs;
                assertArrayEquals(javaFirst, cs, "java, threads=" + threads + ", run " + run);
            }
        }
        Backend nat = BackendsUnderTest.nativeOrNull();
        if (nat == null) return;
        CenterLoss center = loss(nat, Reduction.MEAN);
        float[] first = null;
        float[] firstGc = null;
        for (int run = 0; run < 50; run++) {
            float[] cs = in.centers.clone();
            center.updateCenters(in.x, in.y, cs, n, d, c);
            if (first == null) first = cs;
            assertArrayEquals(first, cs, nat + ", run " + run);
            if (run % 10 == 0) {
                float[] gc = center.forwardBackward(in.x, in.y, in.centers, n, d, c, null, true).gradCenters();
                if (firstGc == null) firstGc = gc;
                assertArrayEquals(firstGc, gc, nat + " gradCenters, run " + run);
            }
        }
        assertClose(javaFirst, first, "native update against java");
    }

    @Test
    void badLabelsThrowNamingTheRowOnEveryBackend() {
        float[] x = new float[12];
        float[] centers = new float[6];
        int[] y = {0, 1, 3, 2};
        for (Backend b : BackendsUnderTest.all()) {
            CenterLoss center = CenterLoss.builder().backend(b).build();
            CulossException e = assertThrows(CulossException.class, () -> center.forward(x, y, centers, 4, 3, 2));
            assertEquals(Status.INVALID_TARGET, e.status());
            assertTrue(e.getMessage().contains("labels[2] = 3"), e.getMessage());
            e = assertThrows(CulossException.class, () -> center.updateCenters(x, y, centers.clone(), 4, 3, 2));
            assertTrue(e.getMessage().contains("labels[2] = 3"), e.getMessage());
            e = assertThrows(CulossException.class,
                    () -> center.forwardBackward(x, y, centers, 4, 3, 2, null, true));
            assertTrue(e.getMessage().contains("labels[2]"), e.getMessage());

            try (BackendMemory mem = new BackendMemory(b)) {
                DeviceBuffer dx = mem.floats(x);
                DeviceBuffer dy = mem.ints(y);
                DeviceBuffer dc = mem.floats(centers);
                DeviceBuffer l = mem.floats(1);
                DeviceBuffer ws = mem.add(center.allocateWorkspace(4, 3, 2));
                center.forward(dx, dy, dc, 4, 3, 2, l, ws);
                CulossException device = assertThrows(CulossException.class, () -> center.checkErrors(ws, 0));
                assertEquals(Status.INVALID_TARGET, device.status());
                center.checkErrors(ws, 0);  // cleared
                center.updateCenters(dx, dy, dc, 4, 3, 2, ws);
                assertThrows(CulossException.class, () -> center.checkErrors(ws, 0));
            }
        }
    }
}
