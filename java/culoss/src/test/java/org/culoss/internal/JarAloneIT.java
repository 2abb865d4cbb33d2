package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar alone loads its natives: a fresh JVM with only the culoss jar and JavaCPP's
 * jars on its classpath, an empty JavaCPP cache, and a working directory away from the build,
 * runs the emulated backend, and every culoss library it maps comes from that cache (the JNI
 * library's build-tree rpath, if any, is never used).
 */
class JarAloneIT {
    @Test
    void theJarAloneRunsTheEmulatedBackend(@TempDir Path tmp) throws Exception {
        assumeFalse(Boolean.getBoolean("culoss.skipNative"), "built with -Dculoss.skipNative");
        String jar = System.getProperty("culoss.jar");
        assertTrue(jar != null && new File(jar).isFile(), "the packaged jar: " + jar);
        List<String> cp = new ArrayList<>();
        cp.add(jar);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (new File(entry).getName().startsWith("javacpp-")) cp.add(entry);
        }
        Path cache = tmp.resolve("cache");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, cp), "-Dculoss.native=emulated",
                "-Dorg.bytedeco.javacpp.cachedir=" + cache, "org.culoss.internal.SelfCheck");
        Process p = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        List<String> mapped = out.lines().filter(l -> l.startsWith("mapped: ")).map(l -> l.substring(8)).toList();
        assertFalse(mapped.isEmpty(), out);
        for (String lib : mapped) {
            assertTrue(lib.startsWith(cache.toRealPath().toString()) || lib.startsWith(cache.toString()),
                    "loaded from outside the jar's cache: " + lib + "\n" + out);
        }
        assertTrue(mapped.stream().anyMatch(l -> l.endsWith("libculoss_emu.so")), out);
        assertTrue(mapped.stream().anyMatch(l -> l.endsWith("libjniculoss_emu.so")), out);
        assertTrue(Files.isDirectory(cache));
    }
}
