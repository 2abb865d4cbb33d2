package org.culoss.tools;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/** One reference case as FORMAT.md describes it (parsed by {@link CaseReader}). */
public final class Case {
    private final Path file;
    private final String loss;
    private final String name;
    private final Params params;
    private final Map<String, Tensor> inputs;
    private final Map<String, Tensor> expected;

    public Case(Path file, String loss, String name, Map<String, JsonNode> params, Map<String, Tensor> inputs,
            Map<String, Tensor> expected) {
        this.file = file;
        this.loss = loss;
        this.name = name;
        this.params = new Params(params);
        this.inputs = Collections.unmodifiableMap(inputs);
        this.expected = Collections.unmodifiableMap(expected);
    }

    public Path file() {
        return file;
    }

    public String loss() {
        return loss;
    }

    public String name() {
        return name;
    }

    public Params params() {
        return params;
    }

    /** In file order. */
    public Map<String, Tensor> inputs() {
        return inputs;
    }

    /** In file order. */
    public Map<String, Tensor> expected() {
        return expected;
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
