package org.culoss.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.culoss.Culoss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code info}: the backends, the fastest choice, {@code -Dculoss.native}, and the native library loaded. */
@Command(name = "info", description = "Shows each backend and why it is (un)available, the fastest choice, "
        + "-Dculoss.native and the native library this JVM loaded.")
final class InfoCommand implements Callable<Integer> {
    private static final Path MAPS = Path.of("/proc/self/maps");

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        // describe() probes the native library of this JVM, so the maps below show it if it loaded.
        for (Map.Entry<String, String> e : Culoss.describe().entrySet()) {
            out.println(e.getKey() + ": " + e.getValue());
        }
        String fastest;
        try {
            fastest = Culoss.fastest().name() + " (" + Culoss.fastestReason() + ")";
        } catch (RuntimeException e) {
            fastest = "none: " + e.getMessage();
        }
        out.println("fastest: " + fastest);
        String nativeProperty = System.getProperty("culoss.native");
        out.println("culoss.native: " + (nativeProperty == null ? "not set (cuda)" : nativeProperty));
        List<String> libraries = loadedLibraries();
        if (libraries.isEmpty()) {
            out.println("native library: not loaded");
        } else {
            for (String lib : libraries) out.println("native library: " + lib);
        }
        out.flush();
        return 0;
    }

    /** The files of this process's mappings whose name contains "culoss" and that are shared objects. */
    static List<String> loadedLibraries() {
        Set<String> files = new LinkedHashSet<>();
        if (!Files.isReadable(MAPS)) return List.copyOf(files);
        try {
            for (String line : Files.readAllLines(MAPS)) {
                if (!line.contains("culoss")) continue;
                // address perms offset dev inode pathname (the path may contain spaces)
                String[] f = line.trim().split("\\s+", 6);
                if (f.length == 6 && f[5].contains(".so")) files.add(f[5]);
            }
        } catch (IOException e) {
            // Unreadable maps: report nothing loaded rather than fail info.
        }
        return List.copyOf(files);
    }
}
