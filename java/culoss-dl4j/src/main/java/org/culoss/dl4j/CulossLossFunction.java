package org.culoss.dl4j;

import java.util.Arrays;
import java.util.Objects;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * A culoss loss as a Deeplearning4j {@link ILossFunction}: the score and the gradient with
 * respect to the layer's pre-activation output, as DL4J's own losses give them (per example:
 * summed over the example's outputs; {@code average} divides by the minibatch; the gradient is
 * that of the sum, DL4J divides by the minibatch itself).
 *
 * <p>The arrays reach culoss as device buffers ({@link DeviceArrays}): in place on nd4j-native
 * (the java and emulated backends) and on nd4j-cuda (the cuda backend), copied between host and
 * GPU otherwise; an array that is not a contiguous row-major float matrix (what a DL4J output
 * layer hands over) is first made one, once.
 * {@link #computeGradientAndScore} is one fused culoss call; DL4J's own {@code OutputLayer}
 * calls {@link #computeGradient} and {@link #computeScore} apart, which {@link FusedOutputLayer}
 * does not.
 *
 * <p>Masks: a column of per-example weights ({@code [N, 1]}), or, for the elementwise losses, one
 * weight per output ({@code [N, C]}); each scales its terms of the score and of the gradient
 * once.
 */
public abstract class CulossLossFunction implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /** The culoss backend by name ({@link Culoss#backend}); null: the pure-Java one. */
    @JsonProperty("backend")
    private String backend;
    /** The pure-Java backend's threads; null: all cores. */
    @JsonProperty("threads")
    private Integer threads;

    protected CulossLossFunction() {}

    /** The culoss backend this loss runs on: {@code java} (the default for host arrays) or {@code cuda}. */
    @SuppressWarnings("unchecked")
    public <T extends CulossLossFunction> T onBackend(String name) {
        Culoss.backend(Objects.requireNonNull(name, "backend"));  // unknown names fail here, not in training
        this.backend = name;
        dropLosses();
        return (T) this;
    }

    /** The pure-Java backend's threads (1: the caller's only); the default is all cores. */
    @SuppressWarnings("unchecked")
    public <T extends CulossLossFunction> T withThreads(int threads) {
        Culoss.java(threads);  // checks the count
        this.threads = threads;
        dropLosses();
        return (T) this;
    }

    /**
     * The backend of a loss not given one by {@link #onBackend}: the system property
     * {@value #DEFAULT_BACKEND_PROPERTY} ({@code java}, {@code emulated} or {@code cuda}), else java.
     */
    public static final String DEFAULT_BACKEND_PROPERTY = "culoss.dl4j.backend";

    final Backend backend() {
        String name = backend != null ? backend : System.getProperty(DEFAULT_BACKEND_PROPERTY, "java");
        if (name.equals("java")) return threads == null ? Culoss.java() : Culoss.java(threads);
        return Culoss.backend(name);
    }

    // ---------------------------------------------------------------- what each loss supplies

    /** The one pass: per-row losses or their total, and the gradient if {@code b.grad} is set. */
    abstract void run(Batch b);

    /**
     * The activation this loss applies itself (softmax, sigmoid), so that its layer's output
     * activation must be that or the identity; null: any activation, applied and back-propagated
     * around the loss.
     */
    abstract Class<? extends IActivation> fusedActivation();

    /** The culoss losses this adapter built, to rebuild after a configuration change. */
    abstract void dropLosses();

    /**
     * This loss's options as name, value pairs (arrays allowed): its description, its equality
     * and its hash.
     */
    abstract Object[] options();

    /** What this adapter is, in a message: its class and options. */
    final String describe() {
        StringBuilder s = new StringBuilder(getClass().getSimpleName()).append('(');
        Object[] o = options();
        for (int i = 0; i < o.length; i += 2) {
            if (o[i + 1] == null) continue;
            if (s.charAt(s.length() - 1) != '(') s.append(", ");
            s.append(o[i]).append('=');
            String v = Arrays.deepToString(new Object[] {o[i + 1]});
            s.append(v, 1, v.length() - 1);
        }
        if (backend != null) s.append(s.charAt(s.length() - 1) == '(' ? "" : ", ").append("backend=").append(backend);
        if (threads != null) s.append(s.charAt(s.length() - 1) == '(' ? "" : ", ").append("threads=").append(threads);
        return s.append(')').toString();
    }

    // ---------------------------------------------------------------- ILossFunction

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        Batch b = batch(labels, preOutput, activationFn, mask, false, false);
        run(b);
        return average && b.n > 0 ? b.total / b.n : b.total;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Batch b = batch(labels, preOutput, activationFn, mask, true, false);
        run(b);
        return Nd4j.create(b.rowLoss, new long[] {b.n, 1}, 'c');
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Batch b = batch(labels, preOutput, activationFn, mask, false, true);
        run(b);
        return finishGradient(b, preOutput, activationFn);
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
            INDArray mask, boolean average) {
        Batch b = batch(labels, preOutput, activationFn, mask, false, true);
        run(b);
        INDArray grad = finishGradient(b, preOutput, activationFn);
        return new Pair<>(average && b.n > 0 ? b.total / b.n : b.total, grad);
    }

    @Override
    public String name() {
        return describe();
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---------------------------------------------------------------- the shared plumbing

    /** Checks the arguments, applies an activation the loss does not fuse, reads the mask. */
    private Batch batch(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean rows,
            boolean grad) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(preOutput, "preOutput");
        Objects.requireNonNull(activationFn, "activationFn");
        if (preOutput.rank() != 2)
            throw new IllegalArgumentException(describe() + ": preOutput must be a matrix [minibatch, outputs], got shape "
                    + Arrays.toString(preOutput.shape()));
        if (labels.rank() != 2 || labels.size(0) != preOutput.size(0))
            throw new IllegalArgumentException(describe() + ": labels must have one row per example of preOutput "
                    + Arrays.toString(preOutput.shape()) + ", got shape "
                    + Arrays.toString(labels.shape()));
        Batch b = new Batch();
        b.n = Math.toIntExact(preOutput.size(0));
        b.c = Math.toIntExact(preOutput.size(1));
        b.labels = labels;
        Class<? extends IActivation> fused = fusedActivation();
        if (fused != null) {
            if (!fused.isInstance(activationFn) && !(activationFn instanceof ActivationIdentity))
                throw new IllegalArgumentException(describe() + " applies the " + activationName(fused)
                        + " itself: give its layer activation " + activationName(fused).toUpperCase()
                        + " (or IDENTITY, for raw scores as the layer's output), not " + activationFn);
            b.x = NdArrays.rowMajorFloats(preOutput);
        } else if (activationFn instanceof ActivationIdentity) {
            b.x = NdArrays.rowMajorFloats(preOutput);
        } else {
            b.x = NdArrays.rowMajorFloats(activationFn.getActivation(preOutput.dup(), true));
            b.activationAfter = true;
        }
        readMask(b, mask);
        b.wantRows = rows;
        if (rows) b.rowLoss = new float[b.n];
        if (grad) b.grad = Nd4j.createUninitialized(DataType.FLOAT, new long[] {b.n, b.c}, 'c');
        return b;
    }

    /**
     * A mask scales the loss's terms and the gradient before any activation is back-propagated:
     * the same as after it for a per-example weight (the activation's Jacobian is linear) and what
     * DL4J does for a per-output one (which DL4J applies again after, the same for 0/1 masks).
     */
    private void readMask(Batch b, INDArray mask) {
        if (mask == null) return;
        if (mask.length() == b.n && (mask.rank() == 1 || mask.size(mask.rank() - 1) == 1)) {
            b.rowWeights = NdArrays.toFloats(mask);
        } else if (mask.rank() == 2 && mask.size(0) == b.n && mask.size(1) == b.c) {
            if (!acceptsPerOutputMask())
                throw new UnsupportedOperationException(describe() + ": a mask per output (shape "
                        + Arrays.toString(mask.shape()) + ") is not defined for a loss over a whole row;"
                        + " give one weight per example, [minibatch, 1]");
            b.elementMask = NdArrays.rowMajorFloats(mask);
        } else {
            throw new IllegalArgumentException(describe() + ": mask must be [minibatch, 1] or [minibatch, outputs] = ["
                    + b.n + ", " + b.c + "], got shape " + Arrays.toString(mask.shape()));
        }
    }

    /** Whether a mask of one weight per output means something to this loss. */
    boolean acceptsPerOutputMask() {
        return false;
    }

    private static INDArray finishGradient(Batch b, INDArray preOutput, IActivation activationFn) {
        INDArray grad = b.grad;
        return b.activationAfter ? activationFn.backprop(preOutput.dup(), grad).getFirst() : grad;
    }

    private static String activationName(Class<? extends IActivation> a) {
        return a.getSimpleName().replace("Activation", "").toLowerCase();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && Objects.equals(backend, ((CulossLossFunction) o).backend)
                && Objects.equals(threads, ((CulossLossFunction) o).threads) && Arrays.deepEquals(options(), ((CulossLossFunction) o).options());
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), backend, threads, Arrays.deepHashCode(options()));
    }

    /** One call's arrays: inputs read in place, outputs written by {@link #run}. */
    static final class Batch {
        int n;
        int c;
        INDArray labels;
        /** The loss's input: the pre-activation output, or the activation's output. */
        INDArray x;
        /** Per-example weights (null: 1). */
        float[] rowWeights;
        /** Per-output weights, [n, c] row-major floats (null: 1). */
        INDArray elementMask;
        /** The activation is back-propagated after the loss (it is neither fused nor the identity). */
        boolean activationAfter;
        boolean wantRows;
        /** Out: each example's weighted loss, when {@link #wantRows}. */
        float[] rowLoss;
        /** Out: the weighted total. */
        double total;
        /** Out, when set: the gradient with respect to {@link #x}, [n, c] row-major. */
        INDArray grad;

        /** Row i's weight (mask) for the score and the gradient. */
        float rowWeight(int i) {
            return rowWeights == null ? 1f : rowWeights[i];
        }
    }
}
