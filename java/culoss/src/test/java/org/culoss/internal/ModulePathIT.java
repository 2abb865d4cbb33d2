package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as a named module: it exports {@code org.culoss} alone (the binding and the
 * Java kernels stay inside), opens the binding's package to JavaCPP only, and on the module path
 * (with JavaCPP's platform jars added, {@code --add-modules ALL-MODULE-PATH}, as JavaCPP asks)
 * loads and runs the emulated backend.
 */
class ModulePathIT {
    @Test
    void theModuleExportsItsApiAloneAndLoadsItsNatives(@TempDir Path tmp) throws Exception {
        assumeFalse(Boolean.getBoolean("culoss.skipNative"), "built with -Dculoss.skipNative");
        String jar = System.getProperty("culoss.jar");
        assertTrue(jar != null && new File(jar).isFile(), "the packaged jar: " + jar);
        List<String> path = new ArrayList<>();
        path.add(jar);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (new File(entry).getName().startsWith("javacpp-")) path.add(entry);
        }
        String modulePath = String.join(File.pathSeparator, path);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        String described = run(tmp, java, "--module-path", modulePath, "--describe-module", "org.culoss");
        List<String> exports = described.lines().filter(l -> l.startsWith("exports ")).toList();
        assertEquals(List.of("exports org.culoss"), exports, described);
        assertTrue(described.contains("qualified opens org.culoss.internal to org.bytedeco.javacpp"), described);

        String out = run(tmp, java, "--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH",
                "-Dculoss.native=emulated", "-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache"),
                "-m", "org.culoss/org.culoss.internal.SelfCheck");
        assertTrue(out.contains(": ok"), out);
    }

    private static String run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + "\n" + out);
        return out;
    }
}
