package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.culoss.testing.PackagedJar;
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
        String classPath = PackagedJar.withJavaCpp();
        Path cache = tmp.resolve("cache");
        String out = PackagedJar.run(tmp, PackagedJar.java(), "-cp", classPath, "-Dculoss.native=emulated",
                "-Dorg.bytedeco.javacpp.cachedir=" + cache, "org.culoss.internal.SelfCheck");
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
