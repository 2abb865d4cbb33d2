package org.culoss;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.culoss.Declarations.Array;

/**
 * One reference case of a loss: the sizes bound from the input shapes (an elementwise loss takes
 * any shape; the others the declared ranks, or, as PyTorch's unbatched inputs, every per-sample
 * tensor without its sample dimension: one sample, a scalar loss), the inputs checked against the
 * declaration, then the operation run with every gradient and each in-place operation run on a
 * copy.
 */
final class CaseRun implements Declarations.Prepared {
    private final LossDeclaration<?> d;
    /** The form of the operation the case's inputs choose (class indices or soft targets). */
    private final Op<?> op;
    private final LossFunction loss;
    private final Map<String, Array> inputs;
    private final long[] sizes;
    /** The shape of one sample's loss for NONE: an elementwise input's own shape, else [n] ([] unbatched). */
    private final int[] perSample;
    /** The inputs come without their sample dimension (n = 1): so do the gradients. */
    private final boolean unbatched;
    /** The inputs are elementwise ({@link Op#elementwise}): any shape, the same for all. */
    private final boolean flat;
    /** The case shapes of the inputs whose trailing axes were folded, by slot. */
    private final Map<Integer, int[]> folds = new java.util.HashMap<>();

    CaseRun(LossDeclaration<?> d, LossFunction loss, Map<String, Array> inputs) {
        this.d = d;
        this.loss = loss;
        this.inputs = inputs;
        Op<?> op = d.opFor(inputs);
        this.op = op;
        for (String name : inputs.keySet()) {
            if (!d.reads(op, name)) {
                throw new IllegalArgumentException("inputs." + name + " does not go with the other inputs (" + op.name
                        + " takes " + op.operands.stream().filter(o -> !o.role.written()).map(Operand::caseName).toList()
                        + ")");
            }
        }
        sizes = new long[op.sizeNames.size()];
        boolean[] bound = new boolean[sizes.length];
        flat = op.elementwise();
        int[] element = null;
        Operand batched = null;
        Operand unbatchedBy = null;
        for (Operand o : op.operands) {
            if (o.role != Operand.Role.INPUT && o.role != Operand.Role.LABELS) continue;
            if (o.optional && !inputs.containsKey(o.caseName())) continue;
            Array a = require(inputs, o);
            if (flat) {
                if (element == null) {
                    element = a.shape();
                    sizes[0] = Sizes.product(o.caseName(), Arrays.stream(element).asLongStream().toArray());
                } else if (!Arrays.equals(element, a.shape())) {
                    throw shape(o, a, Arrays.toString(element) + " as inputs." + op.operands.get(0).caseName());
                }
                continue;
            }
            int[] shape = a.shape();
            boolean perSampleInput = o.dims.length > 0 && o.dims[0] == 0;  // the first size counts samples
            int last = o.dims.length - 1;
            if (op.folded >= 0 && last >= 0 && o.dims[last] == op.folded && shape.length >= o.dims.length) {
                shape = foldTrailing(o, shape, last);  // [N, C, d1..dk]: inner = d1 * ... * dk
                folds.put(o.slot, a.shape());
                batched = o;
            } else if (perSampleInput && shape.length == o.dims.length - 1) {
                unbatchedBy = o;
                shape = prepend(1, shape);
            } else if (shape.length != o.dims.length) {
                throw shape(o, a, dimsText(op, o));
            } else if (perSampleInput) {
                batched = o;
            }
            if (batched != null && unbatchedBy != null) {
                throw new IllegalArgumentException("inputs." + unbatchedBy.caseName() + " is unbatched (shape "
                        + Arrays.toString(inputs.get(unbatchedBy.caseName()).shape()) + ") but inputs."
                        + batched.caseName() + " is not (shape " + Arrays.toString(inputs.get(batched.caseName()).shape())
                        + ")");
            }
            for (int k = 0; k < o.dims.length; k++) {
                int s = o.dims[k];
                if (bound[s] && sizes[s] != shape[k]) throw shape(o, a, expected(o));
                sizes[s] = shape[k];
                bound[s] = true;
            }
        }
        if (flat && op.lastAxis >= 0) bindLastAxis(op, element);
        unbatched = unbatchedBy != null;
        perSample = flat ? element : unbatched ? new int[0]
                : op.labels != null && folds.containsKey(op.labels.slot) ? folds.get(op.labels.slot)
                : folds.containsKey(0) ? withoutClasses(folds.get(0))
                : new int[] {(int) sizes[0]};
        for (Operand o : op.operands) {
            Array a = inputs.get(o.caseName());
            if (a == null) continue;
            if (o.role == Operand.Role.TABLE && !Arrays.equals(a.shape(), dimsOf(o))) {
                throw shape(o, a, expected(o));
            }
            if (o.role == Operand.Role.GRAD_OUTPUT) {
                if (loss.reduction != Reduction.NONE) {
                    throw new IllegalArgumentException(
                            "inputs.grad_output is only for reduction none (sum and mean use 1)");
                }
                if (!Arrays.equals(a.shape(), perSample)) throw shape(o, a, Arrays.toString(perSample));
            }
        }
    }

    @Override
    public Declarations.Evaluation run() {
        return run(Declarations.Layout.ARRAYS);
    }

    @Override
    public Declarations.Evaluation run(Declarations.Layout layout) {
        try (LossFunction closing = loss; Placement place = new Placement(layout, loss.backend)) {
            Map<String, Array> out = new LinkedHashMap<>();
            List<Op<?>> ops = new ArrayList<>();
            ops.add(this.op);
            ops.addAll(d.inPlaceOps);
            for (Op<?> op : ops) {
                Call call = op.call();
                for (int i = 0; i < op.sizeNames.size(); i++) call.sizes[i] = sizes[this.op.size(op.sizeNames.get(i))];
                for (Operand o : op.operands) {
                    if (o.role == Operand.Role.TABLE) {
                        if (loss.table() != null) {
                            call.host[o.slot] = FloatBuffer.wrap(loss.table());
                            call.device[o.slot] = loss.deviceTable();
                        }
                        continue;
                    }
                    if (o.role == Operand.Role.IN_OUT) {
                        float[] values = require(inputs, o).floats().clone();
                        place.output(call, o, values);
                        out.put(Declarations.inPlaceName(d, op, o), Array.ofFloats(dimsOf(o), values));
                    } else if (o.role.written()) {
                        float[] values = new float[Math.toIntExact(o.perSample() ? perSampleLength() : elements(o))];
                        place.output(call, o, values);
                        out.put(o.caseName(), Array.ofFloats(o.perSample()
                                ? (loss.reduction == Reduction.NONE ? perSample : new int[0]) : dimsOf(o), values));
                    } else if (inputs.containsKey(o.caseName())) {
                        place.input(call, o, require(inputs, o));
                    }
                    if (o.strided()) call.stride[o.slot] = sizes[o.dims[1]];
                }
                place.run(op, loss, call);
            }
            return new Declarations.Evaluation(out, elements(op.operands.get(0)));
        }
    }

    /**
     * The per-class table's size: the loss's table's length (1 without one). A table the case
     * gives runs over the last axis of the inputs, so its length must be that axis's.
     */
    private void bindLastAxis(Op<?> op, int[] element) {
        float[] table = loss.table();
        sizes[op.lastAxis] = table == null ? 1 : table.length;
        int last = element.length == 0 ? 1 : element[element.length - 1];
        for (Operand o : op.operands) {
            Array a = inputs.get(o.caseName());
            if (o.role == Operand.Role.TABLE && a != null && !Arrays.equals(a.shape(), new int[] {last})) {
                throw shape(o, a, "[" + last + "] (the last axis of inputs." + op.operands.get(0).caseName() + ")");
            }
        }
    }

    private long perSampleLength() {
        return loss.reduction == Reduction.NONE ? op.samples(sizes) : 1;
    }

    /** shape with its axes from {@code last} on multiplied into one. */
    private static int[] foldTrailing(Operand o, int[] shape, int last) {
        long inner = 1;
        for (int k = last; k < shape.length; k++) inner = Math.multiplyExact(inner, shape[k]);
        if (inner > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("inputs." + o.caseName() + " has " + inner + " positions per sample");
        }
        int[] out = Arrays.copyOf(shape, last + 1);
        out[last] = (int) inner;
        return out;
    }

    private long elements(Operand o) {
        if (flat && !o.perSample() && o.dims.length == 1 && o.dims[0] == 0) return sizes[0];
        long[] factors = new long[o.dims.length];
        for (int k = 0; k < factors.length; k++) factors[k] = sizes[o.dims[k]];
        return Sizes.product(o.caseName(), factors);
    }

    private int[] dimsOf(Operand o) {
        if (flat && !o.perSample() && o.dims.length == 1 && o.dims[0] == 0) return perSample;
        for (Operand in : op.operands) {  // a folded input's shape, and that of what is shaped like it
            if (folds.containsKey(in.slot) && Arrays.equals(in.dims, o.dims)) return folds.get(in.slot);
        }
        int[] shape = new int[o.dims.length];
        for (int k = 0; k < shape.length; k++) shape[k] = (int) sizes[o.dims[k]];
        if (unbatched && shape.length > 0 && o.dims[0] == 0) return Arrays.copyOfRange(shape, 1, shape.length);
        return shape;
    }

    /** [N, C, d1..dk] without its class axis: the samples' shape [N, d1..dk]. */
    private static int[] withoutClasses(int[] shape) {
        int[] out = new int[shape.length - 1];
        out[0] = shape[0];
        System.arraycopy(shape, 2, out, 1, shape.length - 2);
        return out;
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private String expected(Operand o) {
        return Arrays.toString(dimsOf(o));
    }

    static Array require(Map<String, Array> inputs, Operand o) {
        Array a = inputs.get(o.caseName());
        if (a == null) throw new IllegalArgumentException("inputs." + o.caseName() + " is missing");
        if (o.dtype == DType.INT32 ? a.ints() == null : a.floats() == null) {
            throw new IllegalArgumentException("inputs." + o.caseName() + " is not " + o.dtype.label);
        }
        return a;
    }

    private static IllegalArgumentException shape(Operand o, Array a, String expected) {
        return new IllegalArgumentException("inputs." + o.caseName() + " has shape " + Arrays.toString(a.shape())
                + ", not " + expected);
    }

    private static String dimsText(Op<?> op, Operand o) {
        StringBuilder s = new StringBuilder("[");
        for (int k = 0; k < o.dims.length; k++) {
            s.append(k == 0 ? "" : ", ").append(op.sizeNames.get(o.dims[k]).toUpperCase());
        }
        return s.append(']').toString();
    }

}
