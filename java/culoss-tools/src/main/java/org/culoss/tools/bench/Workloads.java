package org.culoss.tools.bench;

import java.util.List;
import org.culoss.Backend;
import org.culoss.Declarations;

/**
 * The benchmark workload of each loss and the shapes that matter for it, as the loss declarations
 * give them: a loss added to the library is benchmarked with nothing added here. Inputs are
 * seeded random values, so every run, backend and peer sees the same data.
 */
public final class Workloads {
    private Workloads() {}

    /** The names that have a workload, in the declarations' order: each loss, and its other forms. */
    public static List<String> losses() {
        return Declarations.benchNames();
    }

    /** The shapes benchmarked by default for {@code loss}. */
    public static List<String> defaultShapes(String loss) {
        return Declarations.benchShapes(known(loss));
    }

    /** The form of {@code loss}'s shapes, e.g. "NxC". */
    public static String shapeForm(String loss) {
        return Declarations.shapeForm(known(loss));
    }

    /**
     * Parses {@code text} as a shape of {@code loss}: an exception unless it has the loss's form.
     * An elementwise loss (one size) takes a shape of any rank, as its inputs do.
     */
    public static Shape shape(String loss, String text) {
        String form = shapeForm(loss);
        Shape shape = Shape.parse(text);
        int rank = form.split("x").length;
        return rank == 1 ? shape : shape.require(rank, loss, form);
    }

    /** Allocates and fills the buffers of {@code loss} at {@code shape} on {@code backend}. */
    public static Declarations.Workload create(String loss, Shape shape, Backend backend) {
        return Declarations.workload(known(loss), backend, shape(loss, shape.toString()).dims());
    }

    private static String known(String loss) {
        if (!Declarations.benchNames().contains(loss)) {
            throw new IllegalArgumentException("no benchmark for loss \"" + loss + "\"; known: " + losses());
        }
        return loss;
    }
}
