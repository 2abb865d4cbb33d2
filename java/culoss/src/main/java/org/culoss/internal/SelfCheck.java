package org.culoss.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.SoftmaxCrossEntropy;

/**
 * {@code java -cp culoss.jar:javacpp.jar org.culoss.internal.SelfCheck}: loads this JVM's native
 * backend from the jar, runs one softmax cross-entropy on it and on the java backend, and prints
 * where each culoss native library was mapped from. Exits 0 when they agree, 2 when the native
 * backend is unavailable, 1 when they disagree.
 */
public final class SelfCheck {
    private SelfCheck() {}

    public static void main(String[] args) throws Exception {
        String kind = NativeLoader.kind();
        if (!Culoss.isAvailable(kind)) {
            System.out.println(kind + " unavailable: " + Culoss.unavailabilityCause(kind).getMessage());
            System.exit(2);
        }
        Backend nat = Culoss.backend(kind);
        float[] logits = {1f, 2f, 3f, 0.5f, -1f, 2f};
        int[] targets = {2, 0};
        float[] a, b;
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(nat).build();
                SoftmaxCrossEntropy java = SoftmaxCrossEntropy.builder().backend(Culoss.java()).build()) {
            a = ce.forwardBackward(logits, targets, 2, 3).loss();
            b = java.forwardBackward(logits, targets, 2, 3).loss();
        }
        for (String line : mappedLibraries()) System.out.println("mapped: " + line);
        boolean same = Math.abs(a[0] - b[0]) <= 1e-6f * Math.abs(b[0]);
        System.out.println(kind + " loss " + a[0] + ", java loss " + b[0] + (same ? ": ok" : ": MISMATCH"));
        System.exit(same ? 0 : 1);
    }

    /** The files of the culoss native libraries this process has mapped (Linux). */
    static List<String> mappedLibraries() throws Exception {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.exists(maps)) return List.of();
        return Files.readAllLines(maps).stream().map(l -> l.replaceFirst("^(\\S+\\s+){5}", "").trim())
                .filter(p -> p.contains("culoss") && p.endsWith(".so")).distinct().collect(Collectors.toList());
    }
}
