package org.culoss;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A benchmark workload read from a declaration: every tensor allocated once in backend memory and
 * filled with seeded values (gaussian inputs, 0/1 probabilities, labels uniform over the
 * classes), so that every run, backend and peer sees the same data; each run queues the fused
 * call with the gradients the array overloads give, then each in-place operation, on the same
 * buffers (the center update moves the centers the next loss reads).
 */
final class BenchRun implements Declarations.Workload {
    /** The operation timed: the loss's, or another form of it (soft targets). */
    private final Op<?> main;
    private final LossFunction loss;
    private final long[] sizes;
    private final Map<String, DeviceBuffer> buffers = new LinkedHashMap<>();
    private final DeviceBuffer workspace;
    private final List<Op<?>> ops = new ArrayList<>();
    /** Per operation, resolved once: its sizes and the buffer of each slot (null: not passed). */
    private final List<long[]> opSizes = new ArrayList<>();
    private final List<DeviceBuffer[]> opBuffers = new ArrayList<>();

    BenchRun(LossDeclaration<?> d, Op<?> main, LossFunction loss, long[] sizes) {
        this.main = main;
        this.loss = loss;
        this.sizes = sizes.clone();
        ops.add(main);
        ops.addAll(d.inPlaceOps);
        long workspaceBytes = 0;
        boolean errorWord = false;
        for (Op<?> op : ops) {
            for (Operand o : op.operands) {
                if (used(o)) checkFillable(o, elements(op, o, sizesOf(op)));
            }
        }
        try {
            for (Op<?> op : ops) {
                long[] own = sizesOf(op);
                workspaceBytes = Math.max(workspaceBytes, Invoker.workspaceBytes(op, loss, own));
                errorWord |= op.labels != null;
                for (Operand o : op.operands) {
                    if (used(o) && !buffers.containsKey(o.caseName())) buffers.put(o.caseName(), allocate(op, o, own));
                }
            }
            workspace = errorWord ? ErrorWord.allocateWorkspace(loss.backend, workspaceBytes)
                    : workspaceBytes > 0 ? DeviceBuffer.allocate(loss.backend, workspaceBytes) : null;
            for (Op<?> op : ops) {
                DeviceBuffer[] slots = new DeviceBuffer[op.operands.size()];
                for (Operand o : op.operands) {
                    if (used(o)) slots[o.slot] = buffers.get(o.caseName());
                }
                opSizes.add(sizesOf(op));
                opBuffers.add(slots);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void run() {
        for (int i = 0; i < ops.size(); i++) {
            Op<?> op = ops.get(i);
            Call call = op.call();
            long[] own = opSizes.get(i);
            System.arraycopy(own, 0, call.sizes, 0, own.length);
            System.arraycopy(opBuffers.get(i), 0, call.device, 0, call.device.length);
            for (Operand o : op.operands) {
                if (o.strided()) call.stride[o.slot] = own[o.dims[1]];
            }
            Invoker.device(op, loss, call, workspace);
        }
    }

    @Override
    public void synchronize() {
        loss.backend.synchronize(0);
    }

    @Override
    public long bytesMoved() {
        long bytes = 0;
        for (Op<?> op : ops) {
            long[] own = sizesOf(op);
            for (Operand o : op.operands) {
                if (!used(o)) continue;
                long elements = elements(op, o, own);
                if (op.labels != null && o.dims.length > 0 && o.dims[0] == op.classSize) {
                    elements = elements / own[op.classSize] * Math.min(own[0], own[op.classSize]);  // rows labels name
                }
                bytes += Sizes.bytes(elements, o.dtype.bytes * (o.role == Operand.Role.IN_OUT ? 2 : 1), o.name);
            }
        }
        return bytes;
    }

    @Override
    public void close() {
        List<AutoCloseable> all = new ArrayList<>(buffers.values());
        all.add(workspace);
        all.add(loss);
        for (AutoCloseable c : all) {
            try {
                if (c != null) c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The tensors a benchmark passes: inputs and the outputs the array overloads give; no table, upstream 1. */
    private static boolean used(Operand o) {
        return o.role != Operand.Role.TABLE && o.role != Operand.Role.GRAD_OUTPUT && !o.onRequest;
    }

    private long[] sizesOf(Op<?> op) {
        long[] own = new long[op.sizeNames.size()];
        for (int i = 0; i < own.length; i++) own[i] = sizes[main.size(op.sizeNames.get(i))];
        return own;
    }

    private long elements(Op<?> op, Operand o, long[] own) {
        if (o.perSample()) return loss.reduction == Reduction.NONE ? op.samples(own) : 1;
        long[] factors = new long[o.dims.length];
        for (int k = 0; k < factors.length; k++) factors[k] = own[o.dims[k]];
        return Sizes.product(o.name, factors);
    }

    /**
     * The inputs are filled from one Java array each: a tensor past what an array holds is refused
     * before anything is allocated (it was an ArithmeticException after the allocation).
     */
    private static void checkFillable(Operand o, long elements) {
        if (elements > Sizes.MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException(o.name + " (" + o.shape + " = " + elements + " elements) is more than a "
                    + "benchmark fills (" + Sizes.MAX_ARRAY_LENGTH + " elements, one Java array)");
        }
    }

    private DeviceBuffer allocate(Op<?> op, Operand o, long[] own) {
        long count = elements(op, o, own);
        int seed = buffers.size() + 1;
        Random rnd = new Random(seed);
        if (o.role == Operand.Role.LABELS) {
            DeviceBuffer b = loss.backend.allocateInts(count);
            b.copyFrom(rnd.ints(Math.toIntExact(count), 0, (int) own[op.classSize]).toArray());
            return b;
        }
        DeviceBuffer b = loss.backend.allocateFloats(count);
        if (!o.role.written()) {
            float[] values = new float[Math.toIntExact(count)];
            for (int i = 0; i < values.length; i++) {
                values[i] = o.probability ? (rnd.nextDouble() < 0.1 ? 1f : 0f) : (float) rnd.nextGaussian();
            }
            b.copyFrom(values);
        }
        return b;
    }
}
