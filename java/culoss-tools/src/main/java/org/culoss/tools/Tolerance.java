package org.culoss.tools;

/**
 * The pass rule of FORMAT.md for one tensor: {@code ||out - ref|| / max(||ref||, 1e-12) <= 1e-5}
 * (2e-5 when the case sums more than 10^5 terms), and every NaN/Inf of {@code ref} at the same
 * place in {@code out}. The norms run over the places where {@code ref} is finite; a non-finite
 * {@code out} where {@code ref} is finite fails.
 */
public final class Tolerance {
    public static final double TOLERANCE = 1e-5;
    public static final double LARGE_TOLERANCE = 2e-5;
    /** More terms than this in a sum (or values in a tensor) get {@link #LARGE_TOLERANCE}. */
    public static final long LARGE_TERMS = 100_000;

    private Tolerance() {}

    /**
     * The outcome for one tensor: {@code relativeError} is NaN when the comparison failed before
     * the norms (shape, NaN/Inf placement); {@code problem} says why it failed, null when it passed.
     */
    public record Comparison(boolean passed, double relativeError, double tolerance, String problem) {}

    public static double toleranceFor(long terms, int size) {
        return terms > LARGE_TERMS || size > LARGE_TERMS ? LARGE_TOLERANCE : TOLERANCE;
    }

    /** Compares what a backend produced, {@code out}, with the reference {@code ref}. */
    public static Comparison compare(Tensor out, Tensor ref, long terms) {
        double tol = toleranceFor(terms, ref.size());
        if (!out.hasShape(ref.shape())) {
            return new Comparison(false, Double.NaN, tol, "shape " + Tensor.shapeString(out.shape())
                    + " produced, " + Tensor.shapeString(ref.shape()) + " expected");
        }
        double diff2 = 0;
        double ref2 = 0;
        int worst = -1;
        double worstDiff = -1;
        for (int i = 0; i < ref.size(); i++) {
            double r = ref.get(i);
            double o = out.get(i);
            if (!Double.isFinite(r)) {
                boolean same = Double.isNaN(r) ? Double.isNaN(o) : o == r;
                if (!same) {
                    return new Comparison(false, Double.NaN, tol, "at " + ref.indexString(i) + " expected " + r
                            + ", got " + o);
                }
                continue;
            }
            if (!Double.isFinite(o)) {
                return new Comparison(false, Double.NaN, tol, "at " + ref.indexString(i) + " expected " + r
                        + ", got " + o);
            }
            double d = o - r;
            if (Math.abs(d) > worstDiff) {
                worstDiff = Math.abs(d);
                worst = i;
            }
            diff2 += d * d;
            ref2 += r * r;
        }
        double rel = Math.sqrt(diff2) / Math.max(Math.sqrt(ref2), 1e-12);
        boolean ok = rel <= tol;
        return new Comparison(ok, rel, tol, ok ? null
                : String.format("relative error %.3e > %.0e (largest difference at %s: got %s, expected %s)", rel, tol,
                        ref.indexString(worst), (float) out.get(worst), ref.get(worst)));
    }
}
