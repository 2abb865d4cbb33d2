package org.culoss.demo;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * A loss that times the loss it wraps, so that the demo can say what share of a training step
 * the loss takes. The same object is shared by the network's configuration copies (DL4J copies
 * layer configurations shallowly), so one counter sees every call.
 */
final class TimedLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    private final ILossFunction inner;
    private long nanos;

    TimedLoss(ILossFunction inner) {
        this.inner = inner;
    }

    ILossFunction inner() {
        return inner;
    }

    /** Nanoseconds spent in the loss since the last call, and resets the count. */
    synchronized long takeNanos() {
        long n = nanos;
        nanos = 0;
        return n;
    }

    private synchronized void add(long start) {
        nanos += System.nanoTime() - start;
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        long t = System.nanoTime();
        try {
            return inner.computeScore(labels, preOutput, activationFn, mask, average);
        } finally {
            add(t);
        }
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        long t = System.nanoTime();
        try {
            return inner.computeScoreArray(labels, preOutput, activationFn, mask);
        } finally {
            add(t);
        }
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        long t = System.nanoTime();
        try {
            return inner.computeGradient(labels, preOutput, activationFn, mask);
        } finally {
            add(t);
        }
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        long t = System.nanoTime();
        try {
            return inner.computeGradientAndScore(labels, preOutput, activationFn, mask, average);
        } finally {
            add(t);
        }
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public String toString() {
        return inner.toString();
    }
}
