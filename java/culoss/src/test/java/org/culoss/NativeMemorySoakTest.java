package org.culoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * Native memory stays flat over many calls, on every backend of the JVM: each round creates and
 * closes a loss with class weights (its table in backend memory), calls it on arrays (a native
 * backend stages them) and on buffers it allocates and closes, the input one of 4 MB and written
 * whole, so that a leaked buffer shows within the short default run: 1500 rounds measured after
 * 1500 of warm-up on the java backend, 30 after 30 on a native one (a round takes far longer
 * emulated); -Dculoss.soak.rounds=50000 or more for a long run. The warm-up is long because the
 * C allocator keeps freed blocks for reuse (glibc's adaptive mmap threshold) and the JIT compiler
 * works: resident memory climbs for the first thousand rounds or so, then stays about flat.
 *
 * <p>What is measured is the process's resident memory outside the Java heap: VmRSS of
 * /proc/self/status less the committed heap (the heap growing or a collection returning pages is
 * not a leak), after a collection. Its growth over the run must stay under 48 MB: the JIT and the
 * C allocator account for some 20 MB in the java backend's run, where one leaked input buffer a
 * round is 120 MB or more.
 */
@Tag("soak")
class NativeMemorySoakTest {
    /** Rounds measured on the java backend; a native one runs a fiftieth. */
    private static final int ROUNDS = Integer.getInteger("culoss.soak.rounds", 1500);
    private static final long ALLOWED_GROWTH = 48L << 20;
    private static final int N = 8;
    private static final int C = 256;
    /** What a round writes to its 4 MB input buffer: the logits, then zeros (every page resident). */
    private static final float[] FILL = new float[1 << 20];
    private static final Path STATUS = Path.of("/proc/self/status");

    @TestFactory
    Stream<DynamicTest> nativeMemoryStaysFlat() {
        return BackendsUnderTest.all().stream().map(b -> DynamicTest.dynamicTest("backend " + b, () -> soak(b)));
    }

    private static void soak(Backend b) throws IOException {
        assumeTrue(Files.isReadable(STATUS), "no /proc/self/status (not Linux)");
        Random rnd = new Random(3);
        float[] logits = new float[N * C];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        int[] targets = rnd.ints(N, 0, C).toArray();
        float[] weights = new float[C];
        for (int i = 0; i < C; i++) weights[i] = 0.5f + rnd.nextFloat();
        SoftmaxCrossEntropy.Result reference;
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).classWeights(weights).build()) {
            reference = ce.forwardBackward(logits, targets, N, C);
        }
        int rounds = b.name().equals("java") ? ROUNDS : Math.max(1, ROUNDS / 50);
        System.arraycopy(logits, 0, FILL, 0, logits.length);
        for (int i = 0; i < rounds; i++) round(b, logits, targets, weights, reference);
        long before = outsideJvmPools();
        for (int i = 0; i < rounds; i++) round(b, logits, targets, weights, reference);
        long after = outsideJvmPools();
        long growth = after - before;
        System.out.printf("NativeMemorySoakTest: %s, %d rounds: %+d KB outside the JVM's pools%n", b, rounds,
                growth >> 10);
        assertTrue(growth < ALLOWED_GROWTH, b + ": native memory grew by " + (growth >> 10) + " KB over " + rounds
                + " rounds (" + (before >> 10) + " KB -> " + (after >> 10) + " KB)");
    }

    /** A loss created and closed; an array call; a call on buffers allocated and closed. */
    private static void round(Backend b, float[] logits, int[] targets, float[] weights,
            SoftmaxCrossEntropy.Result reference) {
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).classWeights(weights).build()) {
            SoftmaxCrossEntropy.Result got = ce.forwardBackward(logits, targets, N, C);
            assertArrayEquals(reference.loss(), got.loss());
            try (DeviceBuffer x = b.allocateFloats(FILL.length); DeviceBuffer y = b.allocateInts(N);
                    DeviceBuffer loss = b.allocateFloats(1); DeviceBuffer grad = b.allocateFloats(N * C);
                    DeviceBuffer ws = ce.allocateWorkspace(N, C)) {
                x.copyFrom(FILL);
                y.copyFrom(targets);
                ce.forwardBackward(x, C, y, N, C, null, loss, grad, C, ws);
                float[] l = new float[1];
                loss.copyTo(l);
                assertArrayEquals(reference.loss(), l);
            }
        }
    }

    /**
     * VmRSS less the JVM's committed heap, after a collection (the smallest of three reads). The
     * test module reads java.base alone: no java.management for the non-heap pools, which the
     * warm-up fills (classes, compiled code).
     */
    private static long outsideJvmPools() throws IOException {
        long best = Long.MAX_VALUE;
        for (int k = 0; k < 3; k++) {
            System.gc();
            best = Math.min(best, residentBytes() - Runtime.getRuntime().totalMemory());
        }
        return best;
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(STATUS)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring("VmRSS:".length()).replace("kB", "").trim()) * 1024;
            }
        }
        throw new IOException("no VmRSS in " + STATUS);
    }
}
