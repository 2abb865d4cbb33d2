package org.culoss;

/** How per-sample losses are combined. The ordinals match {@code culossReduction_t} in culoss.h. */
public enum Reduction {
    /** One loss per sample; the backward takes one upstream gradient per sample. */
    NONE,
    /** The sum of the per-sample losses; the backward takes a scalar upstream gradient. */
    SUM,
    /** The weighted mean: the sum divided by the sum of the weights of the samples that count. */
    MEAN;

    /** The value of this reduction in the C API. */
    public int nativeValue() {
        return ordinal();
    }
}
