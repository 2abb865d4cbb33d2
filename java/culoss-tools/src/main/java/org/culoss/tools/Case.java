package org.culoss.tools;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/** One reference case as FORMAT.md describes it (parsed by {@link CaseReader}). */
public record Case(Path file, String loss, String name, Params params, Map<String, Tensor> inputs,
        Map<String, Tensor> expected) {
    /** {@code inputs} and {@code expected} in file order, read-only. */
    public Case {
        inputs = Collections.unmodifiableMap(inputs);
        expected = Collections.unmodifiableMap(expected);
    }

    /** The input {@code key}; the case fails when it is missing. */
    public Tensor input(String key) {
        Tensor t = inputs.get(key);
        if (t == null) throw new CaseException("inputs." + key + " is missing");
        return t;
    }

    /** The input {@code key}, or null. */
    public Tensor optionalInput(String key) {
        return inputs.get(key);
    }
}
