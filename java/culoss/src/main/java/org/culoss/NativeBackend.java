package org.culoss;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.culoss.internal.CulossNative;

/**
 * The JavaCPP binding over libculoss: {@code cuda} (a GPU) or {@code emulated} (the same
 * kernels on the CPU, where "device" memory is host memory). Host calls stage their buffers in
 * backend memory; the emulated backend reads direct buffers in place.
 */
final class NativeBackend extends Backend {
    private final boolean hostIsDevice;
    /** Where the workspace queries write, one per thread: a device call allocates nothing. */
    private final ThreadLocal<SizeTPointer> queryResult = ThreadLocal.withInitial(() -> new SizeTPointer(1));

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
            int status = CulossNative.culossMalloc(out, Math.max(bytes, 1));
            if (status == Status.OUT_OF_MEMORY.code()) {
                // The error the java backend's off-heap allocation gives too.
                throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of " + name() + " memory: out of memory");
            }
            check(status, "culossMalloc");
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

    /** Host buffers are staged in backend memory (read in place where that is host memory). */
    @Override
    <L extends LossFunction> boolean runHost(Op<L> op, L loss, Call call) {
        try (Staging s = staging()) {
            for (Operand o : op.operands) {
                int i = o.slot;
                if (call.device[i] != null) {
                    call.address[i] = call.device[i].address();  // the loss's table, held with the loss
                } else if (call.host[i] != null) {
                    call.address[i] = o.role.written() ? s.out((FloatBuffer) call.host[i], call.extent[i])
                            : s.in(call.host[i], call.extent[i]);
                }
            }
            long need = Invoker.workspaceNeed(op, loss, call);
            if (need > 0) {
                long word = op.errorWordBytes();
                long ws = word > 0 ? s.workspace(need - word) : s.scratch(need);
                call.errorWord = word > 0 ? ws : 0;
                call.workspace = ws + word;
                call.workspaceBytes = need - word;
            }
            call.stream = 0;
            runDevice(op, loss, call);
            s.copyBack();
            return call.errorWord != 0 && ErrorWord.read(this, call.errorWord) != 0;
        }
    }

    @Override
    <L extends LossFunction> void runDevice(Op<L> op, L loss, Call call) {
        check(op.nativeKernel.run(loss, call, call.mode), op.entryPoint(call.mode));
    }

    @Override
    <L extends LossFunction> long workspaceBytes(Op<L> op, L loss, long[] sizes) {
        SizeTPointer bytes = queryResult.get();
        check(op.workspaceQuery.run(loss, sizes, op.dataType(), bytes), op.queryName);
        return bytes.get(0);
    }

    /** Host buffers staged for this backend's kernels. */
    Staging staging() {
        return new Staging(this, hostIsDevice);
    }
}
