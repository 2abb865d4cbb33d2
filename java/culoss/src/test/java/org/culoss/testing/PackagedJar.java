package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the packaged-jar integration tests share: the jar the build packaged ({@code -Dculoss.jar})
 * with JavaCPP's jars from this JVM's class path, and a fresh JVM run on them.
 */
public final class PackagedJar {
    private PackagedJar() {}

    /**
     * The packaged jar, then JavaCPP's jars, joined as a class or module path. The test is skipped
     * when the build has no natives (-Dculoss.skipNative); it fails when the jar is missing.
     */
    public static String withJavaCpp() {
        assumeFalse(Boolean.getBoolean("culoss.skipNative"), "built with -Dculoss.skipNative");
        String jar = System.getProperty("culoss.jar");
        assertTrue(jar != null && new File(jar).isFile(), "the packaged jar: " + jar);
        List<String> path = new ArrayList<>();
        path.add(jar);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (new File(entry).getName().startsWith("javacpp-")) path.add(entry);
        }
        return String.join(File.pathSeparator, path);
    }

    /** The java launcher of this JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Runs {@code command} in {@code dir}; it must exit 0. Returns its output, stderr merged. */
    public static String run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + "\n" + out);
        return out;
    }
}
