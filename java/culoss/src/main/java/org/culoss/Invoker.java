package org.culoss;

import java.nio.Buffer;
import java.nio.IntBuffer;

/**
 * The one generic path of every loss call: the checks a declaration implies, holding the buffers
 * and the loss for the call, slicing host buffers, the choice of mode, the workspace and its
 * error word, and the report of a bad label. The loss classes fill a {@link Call} from their
 * typed overloads and hand it here; nothing in them repeats what is done here.
 */
final class Invoker {
    private static final Object NATIVE_MEMORY = new Object();

    private Invoker() {}

    // ---------------------------------------------------------------- host buffers

    /**
     * Checks what an array call can check before it allocates its outputs: the sizes and the
     * inputs. Then the outputs it allocates are never the reason for an error.
     */
    static void checkInputs(Op<?> op, LossFunction loss, Call call) {
        resolve(op, loss, call);
        for (Operand o : op.operands) {
            if (o.role == Operand.Role.LOSS || o.role == Operand.Role.GRAD || o.role == Operand.Role.OUTPUT) continue;  // the caller's outputs
            Buffer b = call.host[o.slot];
            if (b == null) {
                if (!o.optional) throw new IllegalArgumentException(o.name + " is null");
                continue;
            }
            Checks.remaining(b.remaining(), call.extent[o.slot], o.name);
        }
    }

    /**
     * Runs a call on host buffers, synchronously: the call's host slots hold the caller's buffers,
     * used from their position. A bad label throws {@link CulossException} naming its row, after
     * the call completed (the row counted for nothing).
     */
    static void host(Op<?> op, LossFunction loss, Call call) {
        loss.acquire();
        try {
            checkInputs(op, loss, call);
            for (Operand o : op.operands) {
                Buffer b = call.host[o.slot];
                if (b == null || !o.role.written()) continue;
                if (b.isReadOnly()) throw new IllegalArgumentException(o.name + " is read-only");
                Checks.remaining(b.remaining(), call.extent[o.slot], o.name);
            }
            for (int s = 0; s < call.host.length; s++) {
                if (call.host[s] != null) call.host[s] = call.host[s].slice();
            }
            checkOverlaps(op, call, false);
            call.mode = mode(op, call);
            if (loss.backend.runHost(typed(op), loss, call)) throw badLabel(op, loss, call);
        } finally {
            call.clear();
            loss.release();
        }
    }

    // ---------------------------------------------------------------- backend memory

    /**
     * Queues a call on backend memory on the stream of its first tensor: no copy, no
     * synchronisation. Every buffer (and the loss) is held until the call is queued.
     */
    static void device(Op<?> op, LossFunction loss, Call call, DeviceBuffer workspace) {
        loss.acquire();
        int held = 0;
        boolean workspaceHeld = false;
        try {
            resolve(op, loss, call);
            Backend backend = loss.backend;
            for (Operand o : op.operands) {
                DeviceBuffer b = call.device[o.slot];
                if (b == null) {
                    if (!o.optional) throw new IllegalArgumentException(o.name + " is null");
                    continue;
                }
                if (b.isClosed()) throw new IllegalStateException(o.name + " is closed");
                Checks.device(b, backend, Sizes.bytes(call.extent[o.slot], o.dtype.bytes, o.name), o.name);
            }
            call.mode = mode(op, call);
            long needed = workspaceNeed(op, loss, call);
            if (workspace != null && workspace.isClosed()) throw new IllegalStateException("workspace is closed");
            if (workspace != null || needed > 0) Checks.device(workspace, backend, needed, "workspace");
            for (; held < call.device.length; held++) {
                if (call.device[held] != null) call.address[held] = acquire(call.device[held], op.operands.get(held).name);
            }
            if (workspace != null) {
                acquire(workspace, "workspace");
                workspaceHeld = true;
                long ws = workspace.address();
                long word = op.errorWordBytes();
                call.errorWord = word == 0 ? 0 : ws;
                call.workspace = ws + word;
                call.workspaceBytes = workspace.bytes() - word;
            }
            checkOverlaps(op, call, true);
            call.stream = call.device[0].stream();
            backend.runDevice(typed(op), loss, call);
        } finally {
            for (int s = 0; s < held; s++) {
                if (call.device[s] != null) call.device[s].release();
            }
            if (workspaceHeld) workspace.release();
            call.clear();
            loss.release();
        }
    }

    /**
     * Holds {@code b} for the call and returns its address. A buffer closed by another thread since
     * the checks above is named, as those checks name it.
     */
    private static long acquire(DeviceBuffer b, String name) {
        try {
            return b.acquireAddress();
        } catch (IllegalStateException closed) {
            throw new IllegalStateException(name + " is closed", closed);
        }
    }

    /** The workspace bytes a device call of these sizes takes (the error word included). */
    static long workspaceBytes(Op<?> op, LossFunction loss, long... sizes) {
        Call call = new Call(op);  // not the thread's: a caller may be filling that one
        System.arraycopy(sizes, 0, call.sizes, 0, sizes.length);
        checkSizes(op, loss, call);
        return op.errorWordBytes() + loss.backend.workspaceBytes(typed(op), loss, call.sizes);
    }

    /**
     * What this call needs: an operation with labels always takes its error word and the
     * kernels' workspace; one without takes workspace only for a forward with a reduction.
     */
    static long workspaceNeed(Op<?> op, LossFunction loss, Call call) {
        if (op.labels == null && !call.mode.forward()) return 0;
        return op.errorWordBytes() + loss.backend.workspaceBytes(typed(op), loss, call.sizes);
    }

    /** A loss class declares its own operations, so its loss object is what their kernels take. */
    @SuppressWarnings("unchecked")
    private static <L extends LossFunction> Op<L> typed(Op<?> op) {
        return (Op<L>) op;
    }

    // ---------------------------------------------------------------- checks

    /** Sizes, strides, the table's length and every tensor's extent, overflow refused. */
    private static void resolve(Op<?> op, LossFunction loss, Call call) {
        checkSizes(op, loss, call);
        for (Operand o : op.operands) {
            if (o.strided() && call.present(o.slot)) {
                long cols = call.sizes[o.dims[1]];
                Checks.stride(call.stride[o.slot], cols, o.strideName, op.sizeNames.get(o.dims[1]));
            }
            call.extent[o.slot] = extent(o, op, loss, call);
        }
    }

    private static void checkSizes(Op<?> op, LossFunction loss, Call call) {
        for (int i = 0; i < call.sizes.length; i++) {
            String name = op.sizeNames.get(i);
            if (op.minimum[i] > 0) Checks.positive(call.sizes[i], name);
            else Checks.nonNegative(call.sizes[i], name);
        }
        op.sizeCheck.check(call.sizes);
        float[] table = loss.table();
        if (table != null) {
            for (Operand o : op.operands) {
                if (o.role != Operand.Role.TABLE) continue;
                long classes = call.sizes[o.dims[0]];
                if (classes != table.length) {
                    throw new IllegalArgumentException(o.shape + " (" + classes + ") differs from the number of "
                            + o.name + " (" + table.length + ")");
                }
            }
        }
    }

    private static long extent(Operand o, Op<?> op, LossFunction loss, Call call) {
        long[] sizes = call.sizes;
        if (o.perSample()) return loss.reduction == Reduction.NONE ? op.samples(sizes) : 1;
        try {
            long elements;
            if (o.strided()) {
                long rows = sizes[o.dims[0]];
                long cols = sizes[o.dims[1]];
                long stride = call.present(o.slot) ? call.stride[o.slot] : cols;
                elements = Sizes.exactRowsExtent(rows, stride, cols);
            } else {
                elements = 1;
                for (int d : o.dims) elements = Sizes.exactProduct(elements, sizes[d]);  // no array per call
            }
            Sizes.exactProduct(elements, o.dtype.bytes);
            return elements;
        } catch (ArithmeticException e) {
            StringBuilder values = new StringBuilder();
            for (int d : o.dims) values.append(values.length() == 0 ? "" : " * ").append(sizes[d]);
            throw new IllegalArgumentException(o.name + " (" + o.shape + " = " + values + (o.strided() ? " with "
                    + o.strideName + " " + call.stride[o.slot] : "") + ") is more bytes than a long counts");
        }
    }

    private static Mode mode(Op<?> op, Call call) {
        boolean loss = false;
        boolean grad = false;
        for (Operand o : op.operands) {
            if (!call.present(o.slot)) continue;
            if (o.role == Operand.Role.LOSS) loss = true;
            if (o.role == Operand.Role.GRAD) grad = true;
        }
        return loss && grad ? Mode.FORWARD_BACKWARD : loss ? Mode.FORWARD : Mode.BACKWARD;
    }

    /**
     * No written tensor shares a byte with another tensor, except an output exactly over an input
     * its declaration allows (same start, same extent, same stride).
     */
    private static void checkOverlaps(Op<?> op, Call call, boolean device) {
        int slots = op.operands.size();
        for (int i = 0; i < slots; i++) {
            Operand a = op.operands.get(i);
            if (!a.role.written() || !call.present(i) || call.extent[i] == 0) continue;
            for (int j = 0; j < slots; j++) {
                Operand b = op.operands.get(j);
                if (j == i || !call.present(j) || call.extent[j] == 0) continue;
                if (b.role == Operand.Role.TABLE) continue;  // the loss's own memory
                if (b.role.written() && j < i) continue;  // each pair of outputs once
                Object baseA = base(call, a, device);
                Object baseB = base(call, b, device);
                if (baseA == null || baseA != baseB) continue;
                long startA = start(call, a, device);
                long startB = start(call, b, device);
                long endA = startA + call.extent[i] * a.dtype.bytes;
                long endB = startB + call.extent[j] * b.dtype.bytes;
                if (startA >= endB || startB >= endA) continue;
                boolean exact = startA == startB && endA == endB && call.stride[i] == call.stride[j];
                if (exact && a.inPlaceOf.contains(b.name)) continue;
                throw new IllegalArgumentException(a.name + " overlaps " + b.name);
            }
        }
    }

    /** The memory a tensor lies in: a heap array, or native memory; null when it cannot be told. */
    private static Object base(Call call, Operand o, boolean device) {
        if (device) return NATIVE_MEMORY;
        Buffer b = call.host[o.slot];
        if (b.isDirect()) return NATIVE_MEMORY;
        return b.hasArray() ? b.array() : null;
    }

    private static long start(Call call, Operand o, boolean device) {
        if (device) return call.address[o.slot];
        Buffer b = call.host[o.slot];
        if (b.isDirect()) return OffHeap.address(b);
        return (long) b.arrayOffset() * o.dtype.bytes;  // sliced: the offset is the position
    }

    // ---------------------------------------------------------------- labels

    /** The first bad label's row, named: host calls report it after the call. */
    private static CulossException badLabel(Op<?> op, LossFunction loss, Call call) {
        IntBuffer labels = call.ints(op.labels.slot);
        long classes = call.sizes[op.classSize];
        long ignore = loss.ignoreIndexValue();
        for (int i = 0; i < call.extent[op.labels.slot]; i++) {
            int y = labels.get(i);
            if ((y < 0 || y >= classes) && y != ignore) {
                return new CulossException(Status.INVALID_TARGET, op.labels.name + "[" + i + "] = " + y
                        + " is outside [0, " + classes + ")" + (ignore == Long.MIN_VALUE ? ""
                        : " and is not the ignore index") + "; that row counted for nothing");
            }
        }
        return new CulossException(Status.INVALID_TARGET, badLabelMessage(op, loss));
    }

    /** What the error word's bad-label bit means for this operation. */
    static String badLabelMessage(Op<?> op, LossFunction loss) {
        String one = op.labels.name.endsWith("s") ? op.labels.name.substring(0, op.labels.name.length() - 1)
                : op.labels.name;
        return "a " + one + " is outside [0, " + op.sizeNames.get(op.classSize).toUpperCase() + ")"
                + (loss.ignoreIndexValue() == Long.MIN_VALUE ? "" : " and is not the ignore index")
                + "; its row counted for nothing";
    }
}
