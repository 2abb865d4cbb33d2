package org.culoss.tools;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The tensors a backend produced for a case, and how many terms the case's largest sum has. */
public final class Outputs {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final long terms;

    /** {@code terms}: the number of terms summed (n * c for a loss over an n x c matrix). */
    public Outputs(long terms) {
        this.terms = terms;
    }

    public Outputs put(String name, int[] shape, float[] values) {
        tensors.put(name, Tensor.of(shape, values));
        return this;
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public long terms() {
        return terms;
    }
}
