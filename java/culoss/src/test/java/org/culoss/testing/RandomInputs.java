package org.culoss.testing;

import java.util.Random;
import org.culoss.Reduction;

/**
 * Random kernel inputs the loss tests all draw the same way. Each maker takes its values from
 * {@code rnd} in index order, so a test's seed still names the same cases.
 */
public final class RandomInputs {
    private RandomInputs() {}

    /** {@code length} values drawn from N(0, scale^2). */
    public static float[] gaussian(Random rnd, int length, double scale) {
        float[] a = new float[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    /** {@code length} values uniform in [low, low + span): per-class weights kept away from 0. */
    public static float[] uniform(Random rnd, int length, float low, float span) {
        float[] a = new float[length];
        for (int i = 0; i < a.length; i++) {
            a[i] = low + span * rnd.nextFloat();
        }
        return a;
    }

    /**
     * An upstream gradient of the shape the backward takes, N(0, 1): one per row for NONE, else a
     * scalar. Signed and not 1, so that a kernel that ignores or misplaces it is caught.
     */
    public static float[] upstreamGradient(Random rnd, Reduction reduction, int rows) {
        return gaussian(rnd, reduction == Reduction.NONE ? rows : 1, 1);
    }

    /** A value near +-1e4 with N(0, 100) noise in each place: logits a naive exp overflows on. */
    public static void fillHuge(Random rnd, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (rnd.nextBoolean() ? 1e4f : -1e4f) + (float) rnd.nextGaussian() * 10;
        }
    }
}
