package org.culoss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Calls racing closes, on every backend of the JVM: worker threads call a softmax cross-entropy
 * (with class weights, whose copy in backend memory the loss frees on close) and an MSE, on arrays
 * and on backend memory (owners and onStream views), while another thread closes the losses and
 * the input buffers, owners and views, under them. Every call either completes with the values
 * of an undisturbed call, or throws IllegalStateException / IllegalArgumentException naming what
 * was closed ("logits is closed", "the loss is closed"). A use after free would crash the JVM or
 * corrupt the results on the native backends. -Dculoss.stress.ms sets each backend's run (1500 ms).
 */
class ConcurrentCloseTest {
    private static final long RUN_MILLIS = Long.getLong("culoss.stress.ms", 1500);
    private static final int WORKERS = 3;
    private static final int N = 6;
    private static final int C = 8;
    private static final Random RND = new Random(7);
    private static final float[] LOGITS = gaussian(N * C);
    private static final int[] TARGETS = RND.ints(N, 0, C).toArray();
    private static final float[] WEIGHTS = {0.5f, 1f, 1.5f, 2f, 0.25f, 1f, 3f, 0.75f};
    private static final float[] X = gaussian(N * C);
    private static final float[] T = gaussian(N * C);

    @TestFactory
    Stream<DynamicTest> callsEitherCompleteOrNameWhatWasClosed() {
        return BackendsUnderTest.all().stream().map(b -> DynamicTest.dynamicTest("backend " + b, () -> race(b)));
    }

    /** The losses and input buffers of one round: the closer closes them under the workers, then starts another. */
    private static final class Round {
        final SoftmaxCrossEntropy ce;
        final Mse mse;
        final DeviceBuffer logits;
        final DeviceBuffer targets;
        final DeviceBuffer x;
        final DeviceBuffer t;
        final List<DeviceBuffer> views = new ArrayList<>();
        final List<AutoCloseable> all = new ArrayList<>();

        Round(Backend b) {
            ce = SoftmaxCrossEntropy.builder().backend(b).classWeights(WEIGHTS).build();
            mse = Mse.builder().backend(b).build();
            logits = filled(b.allocateFloats(LOGITS.length), LOGITS);
            targets = b.allocateInts(N);
            targets.copyFrom(TARGETS);
            x = filled(b.allocateFloats(X.length), X);
            t = filled(b.allocateFloats(T.length), T);
            for (DeviceBuffer owner : List.of(logits, targets, x, t)) views.add(owner.onStream(0));
            all.addAll(List.of(ce, mse, logits, targets, x, t));
            all.addAll(views);
        }

        /** The owner, or its view on stream 0. */
        DeviceBuffer pick(DeviceBuffer owner, boolean view) {
            return view ? views.get(List.of(logits, targets, x, t).indexOf(owner)) : owner;
        }

        void closeAll() throws Exception {
            for (AutoCloseable c : all) c.close();
        }
    }

    private static void race(Backend b) throws Exception {
        SoftmaxCrossEntropy.Result ceRef;
        Mse.Result mseRef;
        try (SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(b).classWeights(WEIGHTS).build();
                Mse mse = Mse.builder().backend(b).build()) {
            ceRef = ce.forwardBackward(LOGITS, TARGETS, N, C);
            mseRef = mse.forwardBackward(X, T);
        }
        AtomicReference<Round> current = new AtomicReference<>(new Round(b));
        List<Throwable> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicLong completed = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        long deadline = System.nanoTime() + RUN_MILLIS * 1_000_000;
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WORKERS; w++) {
            threads.add(new Thread(() -> {
                while (System.nanoTime() < deadline && problems.isEmpty()) {
                    try {
                        call(b, current.get(), ThreadLocalRandom.current().nextInt(4), ceRef, mseRef);
                        completed.incrementAndGet();
                    } catch (IllegalStateException | IllegalArgumentException e) {
                        if (namesWhatWasClosed(e)) refused.incrementAndGet();
                        else problems.add(e);
                    } catch (Throwable e) {
                        problems.add(e);
                    }
                }
            }, "caller-" + w));
        }
        threads.add(new Thread(() -> {
            try {
                while (System.nanoTime() < deadline && problems.isEmpty()) {
                    Round r = current.get();
                    for (int k = 0; k < 3; k++) {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                        r.all.get(ThreadLocalRandom.current().nextInt(r.all.size())).close();
                    }
                    current.set(new Round(b));
                    r.closeAll();
                }
            } catch (Throwable e) {
                problems.add(e);
            }
        }, "closer"));
        threads.forEach(Thread::start);
        for (Thread th : threads) th.join();
        current.get().closeAll();
        if (!problems.isEmpty()) {
            AssertionError e = new AssertionError(problems.size() + " calls went wrong on " + b + "; the first:",
                    problems.get(0));
            throw e;
        }
        assertTrue(completed.get() > 0 && refused.get() > 0,
                () -> b + ": " + completed + " calls completed, " + refused + " refused: the race was not run");
    }

    /** One call on the round's losses: 0, 1 arrays; 2, 3 backend memory (owners or views). */
    private static void call(Backend b, Round r, int kind, SoftmaxCrossEntropy.Result ceRef, Mse.Result mseRef) {
        boolean view = ThreadLocalRandom.current().nextBoolean();
        switch (kind) {
            case 0 -> {
                SoftmaxCrossEntropy.Result got = r.ce.forwardBackward(LOGITS, TARGETS, N, C);
                assertArrayEquals(ceRef.loss(), got.loss());
                assertArrayEquals(ceRef.gradLogits(), got.gradLogits());
            }
            case 1 -> {
                Mse.Result got = r.mse.forwardBackward(X, T);
                assertArrayEquals(mseRef.loss(), got.loss());
                assertArrayEquals(mseRef.gradInput(), got.gradInput());
            }
            case 2 -> {
                try (DeviceBuffer loss = b.allocateFloats(1); DeviceBuffer grad = b.allocateFloats(N * C);
                        DeviceBuffer ws = r.ce.allocateWorkspace(N, C)) {
                    r.ce.forwardBackward(r.pick(r.logits, view), C, r.pick(r.targets, view), N, C, null, loss, grad, C,
                            ws);
                    assertArrayEquals(ceRef.loss(), read(loss, 1));
                    assertArrayEquals(ceRef.gradLogits(), read(grad, N * C));
                }
            }
            default -> {
                try (DeviceBuffer loss = b.allocateFloats(1); DeviceBuffer grad = b.allocateFloats(N * C);
                        DeviceBuffer ws = r.mse.allocateWorkspace(N * C)) {
                    r.mse.forwardBackward(r.pick(r.x, view), r.pick(r.t, view), N * C, null, loss, grad, ws);
                    assertArrayEquals(mseRef.loss(), read(loss, 1));
                    assertArrayEquals(mseRef.gradInput(), read(grad, N * C));
                }
            }
        }
    }

    /** "logits is closed", "the loss is closed", "workspace is closed": a refusal that says what. */
    private static boolean namesWhatWasClosed(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        return m.matches("(the loss|logits|targets|input|target|workspace) is closed");
    }

    private static float[] read(DeviceBuffer buffer, int count) {
        float[] out = new float[count];
        buffer.copyTo(out);
        return out;
    }

    private static DeviceBuffer filled(DeviceBuffer buffer, float[] values) {
        buffer.copyFrom(values);
        return buffer;
    }

    private static float[] gaussian(int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) out[i] = (float) RND.nextGaussian();
        return out;
    }
}
