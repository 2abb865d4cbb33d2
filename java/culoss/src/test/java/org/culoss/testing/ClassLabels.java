package org.culoss.testing;

import java.util.Random;

/**
 * Random class targets for the softmax losses' kernel tests, with the ignore_index they are run
 * with. Cross-entropy and softmax focal take the same targets and ignore rules, so their tests
 * draw them the same way.
 *
 * @param targets one class a row, -100 where ignoreMode 1 ignores the row
 * @param ignore the ignore_index to pass, or the kernel's "none" value
 */
public record ClassLabels(int[] targets, long ignore) {
    /** The ignore modes: every row counts; ignore_index -100 on about a quarter of the rows; class 0 ignored. */
    public static final int NO_IGNORE = 0;
    public static final int IGNORE_SOME_ROWS = 1;
    public static final int IGNORE_CLASS_ZERO = 2;

    /**
     * Targets uniform over [0, c), then changed by {@code ignoreMode} (one of the constants above).
     * {@code noIgnore} is the kernel's value for "no ignore_index".
     */
    public static ClassLabels random(Random rnd, int n, int c, int ignoreMode, long noIgnore) {
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            targets[i] = rnd.nextInt(c);
        }
        long ignore = noIgnore;
        if (ignoreMode == IGNORE_SOME_ROWS) {
            ignore = -100;
            for (int i = 0; i < n; i++) {
                if (rnd.nextInt(4) == 0) {
                    targets[i] = -100;
                }
            }
        } else if (ignoreMode == IGNORE_CLASS_ZERO) {
            ignore = 0;
        }
        return new ClassLabels(targets, ignore);
    }

    /** The row {@link #plantInvalid} reports first: the kernels return the first row with a bad target. */
    public static final int FIRST_INVALID_ROW = 1;

    /**
     * Makes rows 1, 3 and 4 of {@code targets} invalid for {@code c} classes, one of each kind a
     * range check can miss: == c (one past the end), -1, and Integer.MIN_VALUE (wraps if negated).
     * Needs at least 5 rows.
     */
    public static void plantInvalid(int[] targets, int c) {
        targets[1] = c;
        targets[3] = -1;
        targets[4] = Integer.MIN_VALUE;
    }
}
