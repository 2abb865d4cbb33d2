package org.culoss.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.culoss.tools.bench.Shape;
import org.culoss.tools.bench.Workloads;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code ./culoss bench}: the fields of its JSON lines, one line per case, and its argument errors. */
class BenchCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String[] run(int expectedExit, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        assertEquals(expectedExit, exit, () -> "stdout: " + out + "\nstderr: " + err);
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void jsonLinesCarryTheFieldsTheIssueNames() throws Exception {
        String out = run(0, "bench", "--backend", "java", "--shape", "64x10,8x3", "--threads", "1,2",
                "--warmup-ms", "0", "--runs", "3", "--json")[0];
        String[] lines = out.strip().split("\n");
        assertEquals(4, lines.length, out);
        JsonNode first = JSON.readTree(lines[0]);
        assertEquals("softmax_cross_entropy", first.get("loss").asText());
        assertEquals("java", first.get("backend").asText());
        assertEquals("64x10", first.get("shape").asText());
        assertEquals(1, first.get("threads").asInt());
        assertEquals(2, JSON.readTree(lines[1]).get("threads").asInt());
        assertEquals("8x3", JSON.readTree(lines[2]).get("shape").asText());
        for (String line : lines) {
            JsonNode o = JSON.readTree(line);
            assertTrue(o.get("median_ms").asDouble() > 0, line);
            assertTrue(o.get("min_ms").asDouble() <= o.get("median_ms").asDouble(), line);
            assertEquals(3, o.get("runs").asInt(), line);
            // Logits read once, gradient written once, targets read once, the mean loss written.
            Shape s = Shape.parse(o.get("shape").asText());
            assertEquals(2 * s.elements() * 4 + s.dims()[0] * 4 + 4, o.get("bytes").asLong(), line);
            assertEquals(o.get("bytes").asDouble() / (o.get("median_ms").asDouble() * 1e6), o.get("gbps").asDouble(),
                    1e-9 * o.get("gbps").asDouble(), line);
        }
    }

    @Test
    void everyRegisteredLossRunsOnTheJavaBackend() {
        for (String loss : Workloads.losses()) {
            String shape = Workloads.shapeForm(loss).replaceAll("[A-Z]", "3");
            String out = run(0, "bench", "--backend", "java", "--loss", loss, "--shape", shape, "--threads", "1",
                    "--warmup-ms", "0", "--runs", "1")[0];
            assertTrue(out.startsWith(loss), out);
        }
    }

    @Test
    void badArgumentsExitWithTwoAndSayWhy() {
        assertTrue(run(2, "bench", "--backend", "java", "--loss", "nope")[1].contains("no benchmark for loss \"nope\""));
        assertTrue(run(2, "bench", "--backend", "java", "--shape", "4096")[1].contains("takes a shape NxC"));
        assertTrue(run(2, "bench", "--backend", "java", "--shape", "4x0")[1].contains("size below 1"));
        assertTrue(run(2, "bench", "--backend", "java", "--threads", "0")[1].contains("--threads (0)"));
        assertTrue(run(2, "bench", "--backend", "java", "--runs", "0")[1].contains("--runs (0)"));
        // 10^10 logits: more than a Java array fills, refused before anything is allocated.
        assertEquals("culoss bench: softmax_cross_entropy 100000x100000 on java: logits (n*c = 10000000000 elements) "
                + "is more than a benchmark fills (2147483639 elements, one Java array)" + System.lineSeparator(),
                run(2, "bench", "--backend", "java", "--shape", "100000x100000", "--threads", "1")[1]);
    }
}
