package org.culoss.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demo end to end on a small copy of Fashion-MNIST's format: the side-by-side table, the
 * plots, and refusals of bad options and data.
 */
class DemoTest {
    static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setOut(new PrintStream(b, true));
        try {
            int code = new CommandLine(new Demo()).execute(args);
            System.out.flush();
            return code + "\n" + b;
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void trainsSideBySideAndPlots(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Dataset small = Dataset.builtIn(512, 128, 3);
        FashionFiles.write(data, small);
        Path out = dir.resolve("plots");
        String log = run("--data", data.toString(), "--epochs", "2", "--feature-epochs", "1", "--hidden", "32",
                "--batch", "64", "--out", out.toString());
        assertTrue(log.startsWith("0\n"), log);
        assertTrue(log.contains("(512 training, 128 test images)"), log);
        assertTrue(log.matches("(?s).*\\n2 +DL4J +[0-9.]+ +[0-9.]+ .*\\n2 +culoss +[0-9.]+ +[0-9.]+ .*"), log);
        for (String png : new String[] {"features-cross-entropy.png", "features-focal.png", "features-center.png"}) {
            byte[] head = Files.readAllBytes(out.resolve(png));
            assertEquals((byte) 0x89, head[0], png);
            assertEquals('P', head[1], png);
        }
        String center = run("--data", data.toString(), "--loss", "center", "--epochs", "1", "--feature-epochs", "0",
                "--hidden", "16", "--batch", "64");
        assertTrue(center.contains("CenterLossOutputLayer against culoss's CenterLossLayer"), center);
        assertTrue(center.matches("(?s).*\\n1 +DL4J .*\\n1 +culoss .*"), center);
    }

    @Test
    void refusesBadOptionsAndData(@TempDir Path dir) {
        assertTrue(run("--loss", "nope").startsWith("2\n"));
        String log = run("--data", dir.toString(), "--epochs", "1");
        assertTrue(log.startsWith("1\n"), log);
    }
}
