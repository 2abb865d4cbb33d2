package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.junit.jupiter.api.Test;

/**
 * Calls every native method of the binding once. A method whose JNI glue is missing (the javacpp
 * plugin only warns about types it cannot see) throws UnsatisfiedLinkError here. Runs against the
 * library this JVM loaded: the CUDA one (no GPU: every call must still answer, with NO_DEVICE)
 * or the emulated one.
 */
class CulossNativeTest {
    private static final int INVALID_VALUE = 1;

    @Test
    void everyNativeMethodAnswers() {
        assumeFalse(Boolean.getBoolean("culoss.skipNative"), "built with -Dculoss.skipNative");
        assertEquals(100, CulossNative.culossGetVersion());
        String name = CulossNative.culossGetBackendName();
        assertEquals(NativeLoader.kind(), name.equals("none") ? "cuda" : name);
        assertTrue(CulossNative.culossGetErrorString(0).startsWith("CULOSS_STATUS_SUCCESS"));
        assertTrue(CulossNative.culossGetErrorString(4).startsWith("CULOSS_STATUS_NO_DEVICE"));

        try (IntPointer count = new IntPointer(1); LongPointer ptr = new LongPointer(1);
                SizeTPointer bytes = new SizeTPointer(1)) {
            int status = CulossNative.culossGetDeviceCount(count);
            boolean device = status == 0;
            assertEquals(device, count.get(0) > 0, "count and status agree");
            if (!device) assertTrue(CulossNative.culossGetLastErrorDetail().length() > 0, "a reason for no device");

            assertEquals(0, CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(10, 5, 0, 2, bytes));
            assertTrue(bytes.get(0) > 0, "mean needs a workspace");
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(-1, 5, 0, 2, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("n (-1)"));
            // The data types the header reserves come back through the binding as NOT_SUPPORTED.
            assertEquals(7, CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(10, 5, 1, 2, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("dtype (1)"));

            // Host-checkable errors come back before any launch, with or without a device.
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxCrossEntropyForward(0, 5, 0, 2, 5, 0, 0,
                    CulossNative.NO_IGNORE_INDEX, 0f, 0, 0, 0, 0, 0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxCrossEntropyBackward(0, 5, 0, -2, 5, 0, 0, -100, 0f, 0,
                    0, 0, 5, 0, 0, 0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxCrossEntropyForwardBackward(0, 5, 0, 2, 0, 0, 0, -100,
                    0f, 0, 0, 0, 0, 5, 0, 0, 0, 0));

            // Center loss: the size query, then host-checkable errors from every entry point.
            assertEquals(0, CulossNative.culossCenterLossWorkspaceSize(10, 4, 3, 0, 2, bytes));
            assertTrue(bytes.get(0) > 0, "center loss needs a workspace");
            assertEquals(INVALID_VALUE, CulossNative.culossCenterLossWorkspaceSize(10, 0, 3, 0, 2, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("d (0)"));
            assertEquals(INVALID_VALUE, CulossNative.culossCenterLossForward(0, 0, 0, 2, 4, 3, 0, 1f, 0, 0, 0, 0, 0, 0));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("loss is null"));
            assertEquals(INVALID_VALUE, CulossNative.culossCenterLossBackward(0, 0, 0, -2, 4, 3, 0, 1f, 0, 0, 0, 0, 0, 0,
                    0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossCenterLossForwardBackward(0, 0, 0, 2, 4, 0, 0, 1f, 0, 0, 0, 0,
                    0, 0, 0, 0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossCenterLossUpdateCenters(0, 0, 0, 2, 4, 3, 0, Float.NaN, 0, 0,
                    0, 0));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("alpha"));

            // Triplet margin: every entry point answers; bad arguments come back before any launch.
            assertEquals(0, CulossNative.culossTripletMarginWorkspaceSize(10, 8, 0, 1, bytes));
            assertTrue(bytes.get(0) > 0, "sum needs a workspace");
            assertEquals(0, CulossNative.culossTripletMarginWorkspaceSize(10, 8, 0, 0, bytes));
            assertEquals(0, bytes.get(0), "none needs no workspace");
            assertEquals(INVALID_VALUE, CulossNative.culossTripletMarginWorkspaceSize(10, 0, 0, 0, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("d (0)"));
            assertEquals(INVALID_VALUE, CulossNative.culossTripletMarginForward(0, 0, 0, 2, 4, 0, 1f, 2f, 1e-6f, 0, 0,
                    0, 0, 0, 0));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("loss"));
            assertEquals(INVALID_VALUE, CulossNative.culossTripletMarginBackward(0, 0, 0, 2, 4, 0, 1f, 0f, 1e-6f, 0, 0,
                    0, 0, 0, 0, 0, 0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossTripletMarginForwardBackward(0, 0, 0, 2, 4, 0, 1f, 2f,
                    Float.NaN, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0));


            // Softmax focal: the same checks through its four functions.
            assertEquals(0, CulossNative.culossSoftmaxFocalWorkspaceSize(10, 5, 0, 2, bytes));
            assertTrue(bytes.get(0) > 0, "focal mean needs a workspace");
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxFocalWorkspaceSize(10, 0, 0, 2, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("c (0)"));
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxFocalForward(0, 5, 0, 2, 5, 0, 0, 1f, 2f,
                    CulossNative.NO_IGNORE_INDEX, 0, 0, 0, 0, 0, 0));
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxFocalBackward(0, 5, 0, 0, 5, 0, 0, 1f, -1f, -100, 0,
                    0, 0, 5, 0, 0, 0, 0));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("gamma"));
            assertEquals(INVALID_VALUE, CulossNative.culossSoftmaxFocalForwardBackward(0, 5, 0, 2, 0, 0, 0, 1f, 2f, -100,
                    0, 0, 0, 0, 5, 0, 0, 0, 0));
            int malloc = CulossNative.culossMalloc(ptr, 64);
            assertEquals(device ? 0 : 4, malloc, "culossMalloc");
            if (device) {
                long p = ptr.get(0);
                assertEquals(0, CulossNative.culossMemsetAsync(p, 0, 64, 0));
                assertEquals(0, CulossNative.culossMemcpyAsync(p + 32, p, 32, 2, 0));
                assertEquals(0, CulossNative.culossStreamSynchronize(0));
                assertEquals(0, CulossNative.culossFree(p));
            } else {
                // No driver (or a build without CUDA): every runtime call says so.
                assertEquals(4, CulossNative.culossStreamSynchronize(0), "culossStreamSynchronize");
                assertEquals(4, CulossNative.culossMemsetAsync(0, 0, 0, 0), "culossMemsetAsync");
                assertEquals(4, CulossNative.culossMemcpyAsync(0, 0, 0, 0, 0), "culossMemcpyAsync");
                assertEquals(4, CulossNative.culossFree(0), "culossFree");
            }
        }
    }

    /** The elementwise losses' entry points: the workspace queries, and a host-checkable error from each call. */
    @Test
    void everyElementwiseNativeMethodAnswers() {
        assumeFalse(Boolean.getBoolean("culoss.skipNative"), "built with -Dculoss.skipNative");
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            assertEquals(0, CulossNative.culossSigmoidFocalWorkspaceSize(1000, 0, 2, bytes));
            assertTrue(bytes.get(0) > 0, "mean needs a workspace");
            assertEquals(0, CulossNative.culossSmoothL1WorkspaceSize(1000, 0, 1, bytes));
            assertTrue(bytes.get(0) > 0, "sum needs a workspace");
            assertEquals(0, CulossNative.culossHuberWorkspaceSize(1000, 0, 0, bytes));
            assertEquals(0, bytes.get(0), "none needs no workspace");
            assertEquals(INVALID_VALUE, CulossNative.culossHuberWorkspaceSize(-1, 0, 0, bytes));
            assertTrue(CulossNative.culossGetLastErrorDetail().contains("count (-1)"));
        }
        // Null inputs, a negative count, bad options: refused before any launch, with or without a device.
        assertEquals(INVALID_VALUE, CulossNative.culossSigmoidFocalForward(0, 0, 4, 0, 0.25f, 2f, 0, 0, 0, 0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("logits"));
        assertEquals(INVALID_VALUE, CulossNative.culossSigmoidFocalBackward(0, 0, -4, 0, 0.25f, 2f, 0, 0, 0, 0, 0, 0));
        assertEquals(INVALID_VALUE, CulossNative.culossSigmoidFocalForwardBackward(0, 0, 4, 0, 0.25f, -2f, 0, 0, 0, 0, 0,
                0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("gamma"));
        assertEquals(INVALID_VALUE, CulossNative.culossSmoothL1Forward(0, 0, 4, 0, 1f, 0, 0, 0, 0, 0));
        assertEquals(INVALID_VALUE, CulossNative.culossSmoothL1Backward(0, 0, 4, 0, -1f, 0, 0, 0, 0, 0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("beta"));
        assertEquals(INVALID_VALUE, CulossNative.culossSmoothL1ForwardBackward(0, 0, -1, 0, 1f, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(INVALID_VALUE, CulossNative.culossHuberForward(0, 0, 4, 0, 0f, 0, 0, 0, 0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("delta"));
        assertEquals(INVALID_VALUE, CulossNative.culossHuberBackward(0, 0, 4, 0, 1f, 0, 0, 0, 0, 0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("input"));
        assertEquals(INVALID_VALUE, CulossNative.culossHuberForwardBackward(0, 0, 4, 0, 1f, 7, 0, 0, 0, 0, 0, 0));
        assertTrue(CulossNative.culossGetLastErrorDetail().contains("reduction"));
    }
}
