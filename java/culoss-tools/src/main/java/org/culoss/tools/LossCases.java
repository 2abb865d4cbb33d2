package org.culoss.tools;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** The runner of each loss name. A new loss adds one {@link LossCase} class and one line here. */
public final class LossCases {
    private static final Map<String, LossCase> BY_NAME = new TreeMap<>();

    static {
        register(new SoftmaxCrossEntropyCase());
        register(new CenterLossCase());
        register(new SoftmaxFocalCase());
        register(new TripletMarginCase());
        register(new SigmoidFocalCase());
        register(new SmoothL1Case());
        register(new HuberCase());
    }

    private LossCases() {}

    private static void register(LossCase runner) {
        if (BY_NAME.put(runner.loss(), runner) != null) {
            throw new IllegalStateException("two runners for loss " + runner.loss());
        }
    }

    /** The runner for {@code loss}, or null when no runner knows it. */
    public static LossCase forLoss(String loss) {
        return BY_NAME.get(loss);
    }

    public static Map<String, LossCase> all() {
        return Collections.unmodifiableMap(BY_NAME);
    }
}
