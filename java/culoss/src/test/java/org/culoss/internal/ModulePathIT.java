package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.culoss.testing.PackagedJar;
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
        String modulePath = PackagedJar.withJavaCpp();
        String java = PackagedJar.java();

        String described = PackagedJar.run(tmp, java, "--module-path", modulePath, "--describe-module", "org.culoss");
        List<String> exports = described.lines().filter(l -> l.startsWith("exports ")).toList();
        assertEquals(List.of("exports org.culoss"), exports, described);
        assertTrue(described.contains("qualified opens org.culoss.internal to org.bytedeco.javacpp"), described);

        String out = PackagedJar.run(tmp, java, "--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH",
                "-Dculoss.native=emulated", "-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("cache"),
                "-m", "org.culoss/org.culoss.internal.SelfCheck");
        assertTrue(out.contains(": ok"), out);
    }
}
