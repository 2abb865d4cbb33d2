package org.culoss.tools;

import java.util.Set;
import org.culoss.Backend;

/**
 * How to run the cases of one loss (FORMAT.md's table, one row): which parameters, inputs and
 * expected tensors it knows, and how to compute the tensors on a backend. One implementation per
 * loss name, registered in {@link LossCases}.
 */
public interface LossCase {
    /** The {@code loss} name of the cases this runs. */
    String loss();

    /** Every parameter a case may give; any other fails the case. */
    Set<String> params();

    /** Every input a case may give (required or optional); any other fails the case. */
    Set<String> inputs();

    /** The expected tensors every case must give: a case without one of them fails. */
    Set<String> requiredExpected();

    /**
     * Runs the case on {@code backend} (forward and backward, with the upstream gradient FORMAT.md
     * prescribes) and returns every tensor it can produce. A malformed case throws
     * {@link CaseException}; what the backend throws propagates.
     */
    Outputs run(Case c, Backend backend);
}
