package org.culoss;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The declaration of one operation of one loss: everything the generic path ({@link Invoker})
 * and the tools need to know about it, in one place. Its sizes with their lower bounds, its
 * tensors ({@link Operand}) in slot order, the C entry points (a prefix, completed by the
 * {@link Mode}), the workspace query and the pure-Java kernel. A loss class declares its
 * operations as static fields; {@link Losses} lists them.
 *
 * <p>The rules that follow from a declaration, the same for every loss:
 * <ul>
 *   <li>A tensor's extent is its shape over the sizes (a strided one spans {@code (rows - 1) * stride
 *       + cols}); an extent or byte count that does not fit a long is refused, naming the tensor.
 *   <li>An output may be written over an input only where the declaration says so, and then only
 *       exactly (same start, extent and stride); any other overlap with another tensor is refused.
 *   <li>An operation with labels checks them on the device and reports a bad one through the
 *       error word at the start of its workspace, so its device calls always take a workspace;
 *       the host calls name the first bad row. Without labels, only a forward with a reduction
 *       needs workspace, and a workspace may be null when the call needs none.
 * </ul>
 *
 * @param <L> the loss class whose parameters the kernels read
 */
final class Op<L extends LossFunction> {
    /** The pure-Java kernel over host buffers; returns the first bad label's row, or -1. */
    interface JavaKernel<L> {
        long run(L loss, Call call, int threads);
    }

    /** The C entry point for {@code mode}, called with the call's addresses; returns its status. */
    interface NativeKernel<L> {
        int run(L loss, Call call, Mode mode);
    }

    /** The C workspace query for these sizes and data type ({@code culossDataType_t}); returns its status. */
    interface WorkspaceQuery<L> {
        int run(L loss, long[] sizes, int dtype, SizeTPointer bytes);
    }

    /** A check of the sizes beyond their lower bounds (a kernel's index range). */
    interface SizeCheck {
        void check(long[] sizes);
    }

    /** The loss's name in the case format, {@code ./culoss verify} and the bench: snake_case. */
    final String loss;
    /** This operation's name: the loss's, or the loss's and a verb ({@code center_update}). */
    final String name;
    /** The C entry points: this prefix and a {@link Mode#suffix}, or this name alone. */
    final String nativeName;
    final boolean oneEntryPoint;
    /** The C workspace query. */
    final String queryName;
    final List<String> sizeNames;
    final long[] minimum;
    final List<Operand> operands;
    /** The labels, or null when the operation takes none. */
    final Operand labels;
    /** The size that labels index, or -1. */
    final int classSize;
    final NativeKernel<L> nativeKernel;
    final WorkspaceQuery<L> workspaceQuery;
    final JavaKernel<L> javaKernel;
    final SizeCheck sizeCheck;
    /** The sizes whose product counts the samples (a per-sample tensor's length): the first, or more. */
    final int[] samples;
    /**
     * The size that a case's trailing axes fold into ({@code inner} of [N, C, d1..dk] logits), or
     * -1. An operation with one is a form chosen by its first input's rank, and the benchmarks'
     * shapes (two sizes) do not fit it.
     */
    final int folded;
    /**
     * The size of the per-class table of an elementwise operation, which runs over the last axis of
     * its inputs (as PyTorch broadcasts a [C] tensor), or -1. A case's inputs take any shape, and a
     * table it gives must be as long as their last axis. The benchmarks' shapes (one count) do not
     * fit it.
     */
    final int lastAxis;
    /** One reusable call per thread: the device path allocates nothing. */
    private final ThreadLocal<Call> calls;

    private Op(Builder<L> b) {
        this.loss = b.loss;
        this.name = b.name;
        this.nativeName = b.nativeName;
        this.oneEntryPoint = b.oneEntryPoint;
        this.queryName = b.queryName;
        this.sizeNames = List.copyOf(b.sizeNames);
        this.minimum = b.minimum.stream().mapToLong(Long::longValue).toArray();
        this.operands = List.copyOf(b.operands);
        this.labels = operands.stream().filter(o -> o.role == Operand.Role.LABELS).findFirst().orElse(null);
        this.classSize = b.classSize;
        this.nativeKernel = b.nativeKernel;
        this.workspaceQuery = b.workspaceQuery;
        this.javaKernel = b.javaKernel;
        this.sizeCheck = b.sizeCheck;
        this.samples = b.samples.isEmpty() ? new int[] {0} : b.samples.stream().mapToInt(Integer::intValue).toArray();
        this.folded = b.folded;
        this.lastAxis = b.lastAxis;
        this.calls = ThreadLocal.withInitial(() -> new Call(this));
    }

    static <L extends LossFunction> Builder<L> builder(String loss, String nativeName) {
        return new Builder<>(loss, loss, nativeName, false, nativeName + "WorkspaceSize");
    }

    /**
     * Another form of a loss's operation, with entry points of its own ({@code nativeName} and a
     * {@link Mode#suffix}): the same loss on another kind of input (soft targets), named
     * {@code loss_form}. A case chooses it by its inputs ({@link LossDeclaration#opFor}).
     */
    static <L extends LossFunction> Builder<L> form(String loss, String form, String nativeName) {
        return new Builder<>(loss, loss + "_" + form, nativeName, false, nativeName + "WorkspaceSize");
    }

    /** An operation with a single C entry point, named in full, and the workspace query it shares. */
    static <L extends LossFunction> Builder<L> single(String loss, String verb, String nativeName, String queryName) {
        return new Builder<>(loss, loss + "_" + verb, nativeName, true, queryName);
    }

    /** The slot of the tensor called {@code name}; the loss classes resolve their constants once. */
    int slot(String name) {
        for (Operand o : operands) {
            if (o.name.equals(name)) return o.slot;
        }
        throw new IllegalStateException(this.name + " declares no tensor " + name);
    }

    /**
     * Checks, once when the loss class loads, that the slot constant its kernels read for
     * {@code name} is the slot the declaration gave it: a reordered declaration fails at once,
     * not as a kernel reading the wrong tensor.
     */
    Op<L> requireSlot(String name, int slot) {
        if (slot(name) != slot) {
            throw new IllegalStateException(this.name + "." + name + " is slot " + slot(name) + ", read as " + slot);
        }
        return this;
    }

    /** As {@link #requireSlot}, for a size. */
    Op<L> requireSize(String name, int index) {
        if (size(name) != index) {
            throw new IllegalStateException(this.name + " size " + name + " is " + size(name) + ", read as " + index);
        }
        return this;
    }

    int size(String name) {
        int i = sizeNames.indexOf(name);
        if (i < 0) throw new IllegalStateException(this.name + " declares no size " + name);
        return i;
    }

    /** The data type of the operation's float tensors, as the C API takes it ({@code culossDataType_t}). */
    int dataType() {
        for (Operand o : operands) {
            if (o.dtype != DType.INT32) return o.dtype.code;
        }
        throw new IllegalStateException(name + " has no float tensor");
    }

    /** The number of samples at these sizes: one loss value each for {@code NONE}. */
    long samples(long[] sizes) {
        long out = 1;
        for (int s : samples) out = Sizes.exactProduct(out, sizes[s]);
        return out;
    }

    /** Whether the benchmarks time this operation on its loss's shapes. */
    boolean benched() {
        return folded < 0 && lastAxis < 0;
    }

    /** Whether every input is a flat tensor of the first size: a case's inputs may then take any shape. */
    boolean elementwise() {
        for (Operand o : operands) {
            if ((o.role == Operand.Role.INPUT || o.role == Operand.Role.LABELS)
                    && !(o.dims.length == 1 && o.dims[0] == 0)) {
                return false;
            }
        }
        return true;
    }

    /** This thread's call object, cleared. */
    Call call() {
        Call c = calls.get();
        c.clear();
        return c;
    }

    String entryPoint(Mode mode) {
        return oneEntryPoint ? nativeName : nativeName + mode.suffix;
    }

    /** Workspace bytes before the kernels' own: the error word of an operation with labels. */
    long errorWordBytes() {
        return labels == null ? 0 : ErrorWord.BYTES;
    }

    @Override
    public String toString() {
        return name;
    }

    static final class Builder<L extends LossFunction> {
        private final String loss;
        private final String name;
        private final String nativeName;
        private final boolean oneEntryPoint;
        private final List<String> sizeNames = new ArrayList<>();
        private final List<Long> minimum = new ArrayList<>();
        private final List<Operand> operands = new ArrayList<>();
        private NativeKernel<L> nativeKernel;
        private WorkspaceQuery<L> workspaceQuery;
        private JavaKernel<L> javaKernel;
        private SizeCheck sizeCheck = sizes -> {};
        private int classSize = -1;
        private final List<Integer> samples = new ArrayList<>();
        private int folded = -1;
        private int lastAxis = -1;
        private boolean onRequest;
        private boolean probability;

        private final String queryName;

        private Builder(String loss, String name, String nativeName, boolean oneEntryPoint, String queryName) {
            this.queryName = queryName;
            this.loss = loss;
            this.name = name;
            this.nativeName = nativeName;
            this.oneEntryPoint = oneEntryPoint;
        }

        /** A size of at least {@code min}; the first size counts the samples. */
        Builder<L> size(String name, long min) {
            sizeNames.add(name);
            minimum.add(min);
            return this;
        }

        Builder<L> input(String name, String shape) {
            return add(name, Operand.Role.INPUT, DType.FLOAT32, shape, null, false);
        }

        /** An input a call may leave out (a per-element weight: all 1 without it). */
        Builder<L> optionalInput(String name, String shape) {
            return add(name, Operand.Role.INPUT, DType.FLOAT32, shape, null, true);
        }

        /** An input of targets in [0, 1]. */
        Builder<L> probabilities(String name, String shape) {
            probability = true;
            try {
                return input(name, shape);
            } finally {
                probability = false;
            }
        }

        /** Rows*cols with a row stride called {@code strideName}. */
        Builder<L> stridedInput(String name, String shape, String strideName) {
            return add(name, Operand.Role.INPUT, DType.FLOAT32, shape, strideName, false);
        }

        /** One label per sample, in [0, {@code classes}) or the loss's ignore index. */
        Builder<L> labels(String name, String classes) {
            classSize = sizeIndex(classes);
            return add(name, Operand.Role.LABELS, DType.INT32, sizeNames.get(0), null, false);
        }

        /** Labels of {@code shape} (the samples, {@link #samples}), in [0, {@code classes}). */
        Builder<L> labels(String name, String classes, String shape) {
            classSize = sizeIndex(classes);
            return add(name, Operand.Role.LABELS, DType.INT32, shape, null, false);
        }

        /** The sizes whose product counts the samples (default: the first size alone). */
        Builder<L> samples(String... sizes) {
            for (String s : sizes) samples.add(sizeIndex(s));
            return this;
        }

        /** A case's trailing axes fold into {@code size}: [N, C, d1..dk] binds it to d1 * ... * dk. */
        Builder<L> folds(String size) {
            folded = sizeIndex(size);
            return this;
        }

        /** {@code size} counts the per-class table over the last axis of the elementwise inputs ({@link Op#lastAxis}). */
        Builder<L> lastAxis(String size) {
            lastAxis = sizeIndex(size);
            return this;
        }

        Builder<L> table(String name, String shape) {
            return add(name, Operand.Role.TABLE, DType.FLOAT32, shape, null, true);
        }

        Builder<L> gradOutput() {
            return add("gradOutput", Operand.Role.GRAD_OUTPUT, DType.FLOAT32, Operand.PER_SAMPLE, null, true);
        }

        /** The loss, over any of {@code inPlaceOf} when its extent is theirs. */
        Builder<L> loss(String... inPlaceOf) {
            return add("loss", Operand.Role.LOSS, DType.FLOAT32, Operand.PER_SAMPLE, null, true, inPlaceOf);
        }

        Builder<L> grad(String name, String shape, String... inPlaceOf) {
            return add(name, Operand.Role.GRAD, DType.FLOAT32, shape, null, true, inPlaceOf);
        }

        /** A forward result beside the loss, written when the caller gives it. */
        Builder<L> output(String name, String shape) {
            return add(name, Operand.Role.OUTPUT, DType.FLOAT32, shape, null, true);
        }

        Builder<L> stridedGrad(String name, String shape, String strideName, String... inPlaceOf) {
            return add(name, Operand.Role.GRAD, DType.FLOAT32, shape, strideName, true, inPlaceOf);
        }

        /** A gradient the array overloads compute only when asked (it costs a pass of its own). */
        Builder<L> gradOnRequest(String name, String shape) {
            onRequest = true;
            try {
                return add(name, Operand.Role.GRAD, DType.FLOAT32, shape, null, true);
            } finally {
                onRequest = false;
            }
        }

        Builder<L> inOut(String name, String shape) {
            return add(name, Operand.Role.IN_OUT, DType.FLOAT32, shape, null, false);
        }

        Builder<L> check(SizeCheck check) {
            this.sizeCheck = check;
            return this;
        }

        Builder<L> nativeKernel(NativeKernel<L> kernel, WorkspaceQuery<L> query) {
            this.nativeKernel = kernel;
            this.workspaceQuery = query;
            return this;
        }

        Builder<L> javaKernel(JavaKernel<L> kernel) {
            this.javaKernel = kernel;
            return this;
        }

        Op<L> build() {
            if (nativeKernel == null || javaKernel == null) throw new IllegalStateException(name + ": no kernel");
            for (Operand o : operands) {
                for (String other : o.inPlaceOf) {
                    if (operands.stream().noneMatch(p -> p.name.equals(other))) {
                        throw new IllegalStateException(name + "." + o.name + " is declared in place of " + other);
                    }
                }
            }
            return new Op<>(this);
        }

        private Builder<L> add(String name, Operand.Role role, DType dtype, String shape, String strideName,
                boolean optional, String... inPlaceOf) {
            int[] dims = shape.equals(Operand.PER_SAMPLE) ? new int[0]
                    : Arrays.stream(shape.split("\\*")).mapToInt(this::sizeIndex).toArray();
            if (strideName != null && dims.length != 2) throw new IllegalStateException(name + ": a strided shape is rows*cols");
            operands.add(new Operand(name, role, dtype, shape, strideName, optional, List.of(inPlaceOf), onRequest,
                    probability, operands.size(), dims));
            return this;
        }

        private int sizeIndex(String size) {
            int i = sizeNames.indexOf(size);
            if (i < 0) throw new IllegalStateException(name + ": no size " + size);
            return i;
        }
    }
}
