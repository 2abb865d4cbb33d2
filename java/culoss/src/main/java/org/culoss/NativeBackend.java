package org.culoss;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.culoss.internal.CulossNative;

/**
 * The JavaCPP binding over libculoss: {@code cuda} (a GPU) or {@code emulated} (the same
 * kernels on the CPU, where "device" memory is host memory). Host calls stage their buffers in
 * backend memory; the emulated backend reads direct buffers in place.
 */
final class NativeBackend extends Backend {
    private static final int HOST_TO_DEVICE = 0;
    private static final int DEVICE_TO_HOST = 1;

    private final boolean hostIsDevice;

    NativeBackend(String name) {
        super(name);
        this.hostIsDevice = name.equals("emulated");
    }

    static void check(int status, String call) {
        if (status != 0) {
            String detail = CulossNative.culossGetLastErrorDetail();
            throw new CulossException(Status.of(status), call + ": " + CulossNative.culossGetErrorString(status)
                    + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"));
        }
    }

    @Override
    public void synchronize(long stream) {
        check(CulossNative.culossStreamSynchronize(stream), "culossStreamSynchronize");
    }

    @Override
    long allocate(long bytes) {
        try (LongPointer out = new LongPointer(1)) {
            check(CulossNative.culossMalloc(out, Math.max(bytes, 1)), "culossMalloc");
            return out.get(0);
        }
    }

    @Override
    void free(long address) {
        check(CulossNative.culossFree(address), "culossFree");
    }

    @Override
    void copy(long dst, long src, long bytes, int kind, long stream) {
        check(CulossNative.culossMemcpyAsync(dst, src, bytes, kind, stream), "culossMemcpyAsync");
    }

    @Override
    void fill(long dst, int value, long bytes, long stream) {
        check(CulossNative.culossMemsetAsync(dst, value, bytes, stream), "culossMemsetAsync");
    }

    @Override
    long softmaxCrossEntropyWorkspaceBytes(long n, long c, Reduction reduction) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(CulossNative.culossSoftmaxCrossEntropyWorkspaceSize(n, c, reduction.nativeValue(), bytes),
                    "culossSoftmaxCrossEntropyWorkspaceSize");
            return bytes.get(0);
        }
    }

    @Override
    void softmaxCrossEntropy(SoftmaxCrossEntropy op, long logits, long logitsStride, long targets, long n, long c,
            long classWeights, long gradOutput, long loss, long gradLogits, long gradStride, long workspace,
            long workspaceBytes, long errorWord, long stream) {
        int status;
        String call;
        if (loss != 0 && gradLogits != 0) {
            call = "culossSoftmaxCrossEntropyForwardBackward";
            status = CulossNative.culossSoftmaxCrossEntropyForwardBackward(logits, logitsStride, targets, n, c,
                    classWeights, op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), gradOutput,
                    loss, gradLogits, gradStride, workspace, workspaceBytes, errorWord, stream);
        } else if (loss != 0) {
            call = "culossSoftmaxCrossEntropyForward";
            status = CulossNative.culossSoftmaxCrossEntropyForward(logits, logitsStride, targets, n, c, classWeights,
                    op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), loss, workspace,
                    workspaceBytes, errorWord, stream);
        } else {
            call = "culossSoftmaxCrossEntropyBackward";
            status = CulossNative.culossSoftmaxCrossEntropyBackward(logits, logitsStride, targets, n, c, classWeights,
                    op.ignoreIndexValue(), op.labelSmoothing(), op.reduction().nativeValue(), gradOutput, gradLogits,
                    gradStride, workspace, workspaceBytes, errorWord, stream);
        }
        check(status, call);
    }

    @Override
    long softmaxCrossEntropy(SoftmaxCrossEntropy op, FloatBuffer logits, long logitsStride, IntBuffer targets, int n,
            int c, FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradLogits, long gradStride) {
        long lossLength = op.reduction() == Reduction.NONE ? n : 1;
        try (Staging s = new Staging()) {
            long x = s.in(logits, SoftmaxCrossEntropy.matrixLength(n, c, logitsStride));
            long y = s.in(targets, n);
            long go = gradOutput == null ? 0 : s.in(gradOutput, lossLength);
            long l = loss == null ? 0 : s.out(loss, lossLength);
            long g = gradLogits == null ? 0 : s.out(gradLogits, SoftmaxCrossEntropy.matrixLength(n, c, gradStride));
            long wsBytes = softmaxCrossEntropyWorkspaceBytes(n, c, op.reduction());
            long ws = s.scratch(SoftmaxCrossEntropy.ERROR_WORD_BYTES + wsBytes);
            fill(ws, 0, Integer.BYTES, 0);
            softmaxCrossEntropy(op, x, logitsStride, y, n, c, op.deviceWeightsAddress(), go, l, g, gradStride,
                    ws + SoftmaxCrossEntropy.ERROR_WORD_BYTES, wsBytes, ws, 0);
            synchronize(0);
            s.copyBack();
            int[] word = new int[1];
            try (IntPointer host = new IntPointer(1)) {
                copy(host.address(), ws, Integer.BYTES, DEVICE_TO_HOST, 0);
                synchronize(0);
                word[0] = host.get(0);
            }
            return word[0] == 0 ? -1 : -2;
        }
    }

    /**
     * Puts host buffers where the kernels can read them: direct buffers in place on the emulated
     * backend, a copy in backend memory otherwise; outputs are copied back by {@link #copyBack}.
     */
    private final class Staging implements AutoCloseable {
        private final List<Long> allocations = new ArrayList<>();
        private final List<Pointer> hostCopies = new ArrayList<>();
        private final List<Runnable> copyBacks = new ArrayList<>();

        long in(Buffer buffer, long count) {
            return stage(buffer, count, false);
        }

        long out(FloatBuffer buffer, long count) {
            return stage(buffer, count, true);
        }

        long scratch(long bytes) {
            long address = allocate(bytes);
            allocations.add(address);
            return address;
        }

        private long stage(Buffer buffer, long count, boolean output) {
            if (count == 0) return scratch(16);
            if (hostIsDevice && buffer.isDirect() && !buffer.isReadOnly()) return OffHeap.address(buffer);
            long bytes = count * 4;
            final Pointer host;
            final long hostAddress;
            if (buffer.isDirect()) {
                host = null;
                hostAddress = OffHeap.address(buffer);
            } else {
                host = buffer instanceof FloatBuffer ? copyOf((FloatBuffer) buffer, count) : copyOf((IntBuffer) buffer, count);
                hostCopies.add(host);
                hostAddress = host.address();
            }
            final long device;
            if (hostIsDevice) {
                device = hostAddress;
            } else {
                device = scratch(bytes);
                copy(device, hostAddress, bytes, HOST_TO_DEVICE, 0);
            }
            if (output) {
                FloatBuffer target = (FloatBuffer) buffer;
                copyBacks.add(() -> {
                    if (device != hostAddress) copy(hostAddress, device, bytes, DEVICE_TO_HOST, 0);
                    if (host != null) {
                        synchronize(0);
                        float[] values = new float[(int) count];
                        ((FloatPointer) host).get(values);
                        target.duplicate().clear().put(values);
                    }
                });
            }
            return device;
        }

        void copyBack() {
            for (Runnable r : copyBacks) r.run();
            synchronize(0);
        }

        @Override
        public void close() {
            for (long a : allocations) free(a);
            for (Pointer p : hostCopies) p.close();
        }
    }

    private static FloatPointer copyOf(FloatBuffer buffer, long count) {
        float[] values = new float[(int) count];
        buffer.duplicate().get(values);
        return new FloatPointer(values);
    }

    private static IntPointer copyOf(IntBuffer buffer, long count) {
        int[] values = new int[(int) count];
        buffer.duplicate().get(values);
        return new IntPointer(values);
    }
}
