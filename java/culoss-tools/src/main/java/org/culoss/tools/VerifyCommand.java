package org.culoss.tools;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.CulossException;
import org.culoss.Declarations.Layout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code verify DIR [--backend NAME] [--layout L]}: runs every reference case under DIR; exit 1 when one fails. */
@Command(name = "verify",
        description = {"Runs the reference cases under DIR against a backend.",
                "Every *.json under DIR (recursively, sorted by path) is one case (conformance/FORMAT.md).",
                "Prints PASS/FAIL per case and ends with the line 'N passed, M failed'.",
                "Exit status: 0 all passed, 1 a case failed (or none found), 2 bad arguments or unusable backend."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "DIR", description = "A folder of cases (or one case file).")
    Path dir;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "java",
            description = "java, emulated or cuda (default: ${DEFAULT-VALUE}). emulated needs a JVM started with "
                    + "-Dculoss.native=emulated; ./culoss adds it.")
    String backendName;

    @Option(names = "--layout", paramLabel = "LAYOUT", defaultValue = "arrays",
            description = "Where the tensors live: arrays, heap (buffers from a position), direct (unaligned direct "
                    + "buffers), swapped (direct buffers in the other byte order), device (backend memory), or all of "
                    + "them, comma-separated (default: ${DEFAULT-VALUE}).")
    String layoutNames;

    @Option(names = "--throughput", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "After the cases, time one fused softmax cross-entropy (default: on).")
    boolean throughput;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.exists(dir)) {
            err.println("culoss verify: " + dir + " does not exist");
            return 2;
        }
        Backend backend;
        try {
            backend = Culoss.backend(backendName);
        } catch (IllegalArgumentException | CulossException e) {
            err.println("culoss verify: " + e.getMessage());
            return 2;
        }
        List<Layout> layouts = new ArrayList<>();
        for (String name : layoutNames.split(",")) {
            boolean found = false;
            for (Layout l : Layout.values()) {
                if (name.equals("all") || name.equals(Verifier.layoutName(l))) {
                    if (!layouts.contains(l)) layouts.add(l);
                    found = true;
                }
            }
            if (!found) {
                err.println("culoss verify: --layout " + name + " is not arrays, heap, direct, swapped, device or all");
                return 2;
            }
        }
        int count = Verifier.caseFiles(dir).size();
        out.println("verifying " + count + " case" + (count == 1 ? "" : "s") + " under " + dir + " on backend "
                + backend.name());
        out.flush();
        Verifier.Summary summary = Verifier.verify(dir, backend, layouts, r -> {
            out.println(r.line());
            out.flush();
        });
        if (throughput && summary.failed() == 0 && !summary.results().isEmpty()) out.println(Throughput.line(backend));
        out.println(summary.line());
        out.flush();
        if (summary.results().isEmpty()) {
            err.println("culoss verify: no *.json cases under " + dir);
            return 1;
        }
        return summary.failed() > 0 ? 1 : 0;
    }
}
