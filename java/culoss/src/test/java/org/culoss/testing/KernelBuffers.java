package org.culoss.testing;

import java.nio.FloatBuffer;
import org.culoss.Reduction;

/**
 * The buffers a kernel test hands a Java kernel, and the outputs read back. Outputs start as NaN
 * ({@link TestArrays#nanFilled}) so that whatever the kernel leaves unwritten shows; an output not
 * asked for, or an optional input a case leaves out, is null, as the kernels take it.
 */
public final class KernelBuffers {
    private KernelBuffers() {}

    /** A NaN-filled loss output when {@code wanted}: one value a row for NONE, else one; else null. */
    public static FloatBuffer lossOrNull(boolean wanted, Reduction reduction, int rows) {
        return wanted ? TestArrays.nanFilled(reduction == Reduction.NONE ? rows : 1) : null;
    }

    /** A NaN-filled output of {@code length} when {@code wanted}, else null. */
    public static FloatBuffer nanFilledOrNull(boolean wanted, int length) {
        return wanted ? TestArrays.nanFilled(length) : null;
    }

    /** The heap array behind {@code b}, or null for an output not asked for. */
    public static float[] arrayOrNull(FloatBuffer b) {
        return b == null ? null : b.array();
    }

    /** {@code a} wrapped, or null: for the optional inputs (weights, gradOut) a test case may leave out. */
    public static FloatBuffer wrapOrNull(float[] a) {
        return a == null ? null : FloatBuffer.wrap(a);
    }
}
