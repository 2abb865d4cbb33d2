package org.culoss.dl4j;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The loss's score from a layer's backprop, kept for the score call that DL4J makes right after
 * it in a training step, so that the loss runs once per step. It is given once, and only for the
 * same input, labels and mask objects; any other score call computes the score afresh.
 */
final class KeptScore {
    private boolean kept;
    private double score;
    private INDArray input;
    private INDArray labels;
    private INDArray mask;

    void keep(double score, INDArray input, INDArray labels, INDArray mask) {
        this.kept = true;
        this.score = score;
        this.input = input;
        this.labels = labels;
        this.mask = mask;
    }

    /** The kept score if it was computed on these arrays (then forgotten), else NaN. */
    double take(INDArray input, INDArray labels, INDArray mask) {
        boolean same = kept && this.input == input && this.labels == labels && this.mask == mask;
        kept = false;
        this.input = null;
        this.labels = null;
        this.mask = null;
        return same ? score : Double.NaN;
    }
}
