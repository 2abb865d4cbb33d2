package org.culoss;

import java.nio.FloatBuffer;
import java.util.function.Function;
import org.culoss.internal.ElementwiseChunks;

/**
 * What the regularizers of a training objective ({@link L1Penalty}, {@link L2Penalty}) share: one
 * flat parameter buffer of {@code count} floats (any shape, row-major), one summed value, the
 * gradient with respect to the parameters, and the three ways of calling of the losses:
 * {@code float[]}, host {@link FloatBuffer}s (heap or direct, used from their position) and
 * {@link DeviceBuffer}s (no copy, no synchronisation, queued on the stream of the parameters).
 * The gradient may be written over the parameters. The upstream gradient is one value (null: 1).
 *
 * @param <R> the result of {@code forwardBackward} on arrays
 */
abstract class Penalty<R> extends LossFunction {
    // The slots and the size of every penalty declaration (see declare).
    static final int PARAMS = 0;
    static final int GRAD_OUTPUT = 1;
    static final int LOSS = 2;
    static final int GRAD = 3;
    static final int COUNT = 0;

    private final Op<?> op;
    /** lambda, the penalty's weight: finite, any sign. */
    final float lambda;

    Penalty(Backend backend, float lambda, Op<?> op) {
        super(backend, Reduction.SUM, null);
        this.op = op;
        this.lambda = lambda;
    }

    /** The C entry points of one penalty ({@code culoss<Name>Penalty...}), with lambda. */
    interface Entry {
        int run(long params, long count, int dtype, float lambda, long gradOutput, long loss, long grad,
                long workspace, long workspaceBytes, long stream, Mode mode);
    }

    /**
     * The declaration of a penalty: {@code params} of {@code count} floats, one loss, the gradient
     * {@code gradParams} (which may be written over the parameters), the C functions through
     * {@code entry} and {@code query}, the Java kernel per chunk of elements (for a penalty's lambda).
     */
    static <L extends Penalty<?>> Op<L> declare(String loss, String nativeName, Entry entry, Op.WorkspaceQuery<L> query,
            Function<L, ElementwiseChunks.Kernel> javaKernel) {
        return Op.<L>builder(loss, nativeName)
                .size("count", 0)
                .input("params", "count")
                .gradOutput()
                .loss()
                .grad("gradParams", "count", "params")
                .nativeKernel((l, c, mode) -> entry.run(c.address[PARAMS], c.sizes[COUNT], c.dtype, l.lambda,
                        c.address[GRAD_OUTPUT], c.address[LOSS], c.address[GRAD], c.workspace, c.workspaceBytes,
                        c.stream, mode), query)
                .javaKernel((l, c, threads) -> {
                    // The parameters are both of the chunk kernel's inputs: it reads the first only.
                    ElementwiseChunks.run(javaKernel.apply(l), c.floats(PARAMS), c.floats(PARAMS), c.intSize(COUNT),
                            Reduction.SUM, c.floats(GRAD_OUTPUT), c.floats(LOSS), c.floats(GRAD), threads);
                    return -1;
                })
                .build()
                .requireSize("count", COUNT)
                .requireSlot("params", PARAMS).requireSlot("gradOutput", GRAD_OUTPUT).requireSlot("loss", LOSS)
                .requireSlot("gradParams", GRAD);
    }

    abstract R result(float loss, float[] grad);

    /** lambda, the penalty's weight. */
    public float lambda() {
        return lambda;
    }

    // ---------------------------------------------------------------- arrays

    /** The penalty of {@code params}. */
    public float forward(float[] params) {
        Call call = arrays(params, null);
        float[] loss = new float[1];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        Invoker.host(op, this, call);
        return loss[0];
    }

    /** The gradient for the upstream gradient {@code gradOutput} (null: 1; else one value). */
    public float[] backward(float[] params, float[] gradOutput) {
        Call call = arrays(params, gradOutput);
        float[] grad = new float[params.length];
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return grad;
    }

    /** Penalty and gradient in one pass, for an upstream gradient of 1. */
    public R forwardBackward(float[] params) {
        return forwardBackward(params, null);
    }

    /** Penalty and gradient in one pass; {@code gradOutput} as in {@link #backward(float[], float[])}. */
    public R forwardBackward(float[] params, float[] gradOutput) {
        Call call = arrays(params, gradOutput);
        float[] loss = new float[1];
        float[] grad = new float[params.length];
        call.host[LOSS] = FloatBuffer.wrap(loss);
        call.host[GRAD] = FloatBuffer.wrap(grad);
        Invoker.host(op, this, call);
        return result(loss[0], grad);
    }

    // ---------------------------------------------------------------- host buffers

    /** {@code count} parameters from their position; {@code loss} gets one value. */
    public void forward(FloatBuffer params, int count, FloatBuffer loss) {
        Invoker.host(op, this, call(params, count, null).put(LOSS, Checks.notNull(loss, "loss")));
    }

    /** {@code gradOutput}: null (1) or one value. */
    public void backward(FloatBuffer params, int count, FloatBuffer gradOutput, FloatBuffer gradParams) {
        Invoker.host(op, this, call(params, count, gradOutput).put(GRAD, Checks.notNull(gradParams, "gradParams")));
    }

    public void forwardBackward(FloatBuffer params, int count, FloatBuffer gradOutput, FloatBuffer loss,
            FloatBuffer gradParams) {
        Invoker.host(op, this, call(params, count, gradOutput).put(LOSS, Checks.notNull(loss, "loss"))
                .put(GRAD, Checks.notNull(gradParams, "gradParams")));
    }

    // ---------------------------------------------------------------- device buffers

    /** The workspace bytes a device {@code forward} or {@code forwardBackward} needs ({@code backward}: none). */
    public long workspaceBytes(long count) {
        return Invoker.workspaceBytes(op, this, count);
    }

    /** Allocates a workspace for {@code count} parameters. */
    public DeviceBuffer allocateWorkspace(long count) {
        return DeviceBuffer.allocate(backend, workspaceBytes(count));
    }

    public void forward(DeviceBuffer params, long count, DeviceBuffer loss, DeviceBuffer workspace) {
        Invoker.device(op, this, call(params, count, null).put(LOSS, Checks.notNull(loss, "loss")), workspace);
    }

    /** Needs no workspace. {@code gradOutput}: null (1) or one value. */
    public void backward(DeviceBuffer params, long count, DeviceBuffer gradOutput, DeviceBuffer gradParams) {
        Invoker.device(op, this, call(params, count, gradOutput).put(GRAD, Checks.notNull(gradParams, "gradParams")),
                null);
    }

    /**
     * The fast path: queued on the stream of {@code params}, no copy, no synchronisation.
     * {@code workspace} holds at least {@link #workspaceBytes}.
     */
    public void forwardBackward(DeviceBuffer params, long count, DeviceBuffer gradOutput, DeviceBuffer loss,
            DeviceBuffer gradParams, DeviceBuffer workspace) {
        Invoker.device(op, this, call(params, count, gradOutput).put(LOSS, Checks.notNull(loss, "loss"))
                .put(GRAD, Checks.notNull(gradParams, "gradParams")), workspace);
    }

    // ---------------------------------------------------------------- calls

    private Call arrays(float[] params, float[] gradOutput) {
        Call call = call(FloatBuffer.wrap(Checks.notNull(params, "params")), params.length,
                gradOutput == null ? null : FloatBuffer.wrap(gradOutput));
        Invoker.checkInputs(op, this, call);
        return call;
    }

    private Call call(Object params, long count, Object gradOutput) {
        Call call = op.call();
        call.sizes[COUNT] = count;
        return call.put(PARAMS, params).put(GRAD_OUTPUT, gradOutput);
    }

    /** The options every penalty takes: the backend and lambda; the reduction is always {@code SUM}. */
    abstract static class PenaltyBuilder<B extends PenaltyBuilder<B>> extends LossBuilder<B> {
        float lambda;

        PenaltyBuilder(float lambda) {
            super(Reduction.SUM);
            this.lambda = lambda;
        }

        /** The penalty's weight lambda: finite, any sign. */
        public B lambda(float lambda) {
            this.lambda = Checks.finite(lambda, "lambda");
            return self();
        }

        /** A penalty is one summed value: only {@code SUM} is taken. */
        @Override
        public B reduction(Reduction reduction) {
            if (Checks.notNull(reduction, "reduction") != Reduction.SUM) {
                throw new IllegalArgumentException("reduction (" + reduction + ") is not SUM: a penalty is one summed value");
            }
            return super.reduction(reduction);
        }
    }
}
