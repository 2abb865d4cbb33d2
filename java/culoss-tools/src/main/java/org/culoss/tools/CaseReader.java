package org.culoss.tools;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one case file (conformance/FORMAT.md). Anything malformed is a {@link CaseException}; names of losses
 * and parameters are checked later, against the loss's declaration ({@link Verifier}).
 */
public final class CaseReader {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)  // a bare NaN/Infinity reads too
            .build();

    /** The top-level fields of a case (conformance/FORMAT.md). */
    private static final java.util.List<String> TOP_LEVEL = java.util.List.of("loss", "name", "dtype", "params", "inputs", "expected");

    /**
     * The largest case file read (64 MiB; the project's largest is about 2 MB). Its parsed tree
     * takes several times its size: a larger file could exhaust a small heap before it is checked.
     */
    public static final long MAX_CASE_BYTES = 64L << 20;

    private CaseReader() {}

    public static Case read(Path file) {
        return read(file, MAX_CASE_BYTES);
    }

    /** Reads a case of at most {@code maxBytes}; a larger file is refused unread. */
    public static Case read(Path file, long maxBytes) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new CaseException("cannot read: " + e, e);
        }
        if (size > maxBytes) {
            throw new CaseException(file + " is " + size + " bytes, more than a case may be (" + maxBytes + " bytes)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new CaseException("not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        } catch (IOException e) {
            throw new CaseException("cannot read: " + e, e);
        }
        if (root == null || !root.isObject()) throw new CaseException("the file does not hold a JSON object");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!TOP_LEVEL.contains(f)) {
                throw new CaseException("unknown field \"" + f + "\" (a case has only " + TOP_LEVEL + ")");
            }
        }
        // Half-precision cases hold inputs exact in that type and a looser tolerance: run as float32
        // they would pass or fail for the wrong reason.
        JsonNode dtype = root.get("dtype");
        if (dtype != null && !(dtype.isTextual() && dtype.asText().equals("float32"))) {
            throw new CaseException("dtype " + dtype + ": this runner runs float32 cases only");
        }
        String loss = requiredText(root, "loss");
        JsonNode nameNode = root.get("name");
        String name;
        if (nameNode == null || nameNode.isNull()) {
            String f = file.getFileName().toString();
            name = f.endsWith(".json") ? f.substring(0, f.length() - 5) : f;
        } else if (nameNode.isTextual()) {
            name = nameNode.asText();
        } else {
            throw new CaseException("\"name\" is not a string");
        }
        Map<String, JsonNode> params = new LinkedHashMap<>();
        JsonNode p = root.get("params");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) throw new CaseException("\"params\" is not an object");
            p.fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue()));
        }
        Map<String, Tensor> inputs = tensors(root, "inputs");
        Map<String, Tensor> expected = tensors(root, "expected");
        return new Case(file, loss, name, new Params(params), inputs, expected);
    }

    private static String requiredText(JsonNode root, String key) {
        JsonNode v = root.get(key);
        if (v == null) throw new CaseException("\"" + key + "\" is missing");
        if (!v.isTextual()) throw new CaseException("\"" + key + "\" is not a string");
        return v.asText();
    }

    private static Map<String, Tensor> tensors(JsonNode root, String key) {
        JsonNode node = root.get(key);
        if (node == null) throw new CaseException("\"" + key + "\" is missing");
        if (!node.isObject()) throw new CaseException("\"" + key + "\" is not an object");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), tensor(e.getValue(), key + "." + e.getKey()));
        }
        return out;
    }

    static Tensor tensor(JsonNode node, String where) {
        if (!node.isObject()) throw new CaseException(where + " is not an object with shape and data");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("shape") && !f.equals("data")) {
                throw new CaseException(where + " has an unknown field \"" + f + "\" (only shape and data)");
            }
        }
        JsonNode shapeNode = node.get("shape");
        JsonNode dataNode = node.get("data");
        if (shapeNode == null || !shapeNode.isArray()) throw new CaseException(where + ".shape is missing or not an array");
        if (dataNode == null || !dataNode.isArray()) throw new CaseException(where + ".data is missing or not an array");
        int[] shape = new int[shapeNode.size()];
        long size = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                throw new CaseException(where + ".shape[" + i + "] (" + d + ") is not a non-negative integer");
            }
            shape[i] = d.asInt();
            size *= shape[i];
            if (size > Integer.MAX_VALUE - 8) throw new CaseException(where + ".shape is too large");
        }
        if (size != dataNode.size()) {
            throw new CaseException(where + ": shape " + Tensor.shapeString(shape) + " holds " + size
                    + " values, data has " + dataNode.size());
        }
        double[] data = new double[dataNode.size()];
        for (int i = 0; i < data.length; i++) {
            try {
                data[i] = Numbers.parse(dataNode.get(i));
            } catch (CaseException e) {
                throw new CaseException(where + ".data[" + i + "]: " + e.getMessage());
            }
        }
        return new Tensor(shape, data);
    }
}
