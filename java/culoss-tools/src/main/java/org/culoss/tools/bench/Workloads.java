package org.culoss.tools.bench;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.culoss.Backend;
import org.culoss.CenterLoss;
import org.culoss.DeviceBuffer;
import org.culoss.Huber;
import org.culoss.Reduction;
import org.culoss.SigmoidFocal;
import org.culoss.SmoothL1;
import org.culoss.SoftmaxCrossEntropy;
import org.culoss.TripletMargin;
import org.culoss.SoftmaxFocal;

/**
 * The benchmark workload of each loss and the shapes that matter for it. A new
 * loss adds one factory and one {@link #register} line. Inputs are seeded random values, so every
 * run, backend and peer sees the same data.
 */
public final class Workloads {
    private record Entry(String form, List<String> shapes, BiFunction<Backend, Shape, Workload> factory) {}

    private static final Map<String, Entry> BY_LOSS = new TreeMap<>();

    static {
        register("softmax_cross_entropy", "NxC", List.of("4096x10", "4096x1000", "512x32000", "64x131072"),
                Workloads::softmaxCrossEntropy);
        register("triplet_margin", "NxD", List.of("4096x512"), Workloads::tripletMargin);
        register("center", "NxDxC", List.of("4096x512x10000"), Workloads::center);
        register("softmax_focal", "NxC", List.of("4096x10", "4096x1000", "512x32000", "64x131072"),
                Workloads::softmaxFocal);
        register("sigmoid_focal", "NxC", List.of("4096x10", "4096x1000", "512x32000", "64x131072"),
                Workloads::sigmoidFocal);
        register("smooth_l1", "N", List.of("16777216"), Workloads::smoothL1);
        register("huber", "N", List.of("16777216"), Workloads::huber);
    }

    private Workloads() {}

    private static void register(String loss, String form, List<String> shapes,
            BiFunction<Backend, Shape, Workload> factory) {
        BY_LOSS.put(loss, new Entry(form, shapes, factory));
    }

    /** The loss names that have a workload, sorted. */
    public static List<String> losses() {
        return List.copyOf(BY_LOSS.keySet());
    }

    /** The shapes benchmarked by default for {@code loss}. */
    public static List<String> defaultShapes(String loss) {
        return entry(loss).shapes();
    }

    /** The form of {@code loss}'s shapes, e.g. "NxC". */
    public static String shapeForm(String loss) {
        return entry(loss).form();
    }

    /** Parses {@code text} as a shape of {@code loss}: an exception unless it has the loss's form. */
    public static Shape shape(String loss, String text) {
        String form = entry(loss).form();
        return Shape.parse(text).require(form.split("x").length, loss, form);
    }

    /** Allocates and fills the buffers of {@code loss} at {@code shape} on {@code backend}. */
    public static Workload create(String loss, Shape shape, Backend backend) {
        return entry(loss).factory().apply(backend, shape(loss, shape.toString()));
    }

    private static Entry entry(String loss) {
        Entry e = BY_LOSS.get(loss);
        if (e == null) throw new IllegalArgumentException("no benchmark for loss \"" + loss + "\"; known: " + losses());
        return e;
    }

    // ---------------------------------------------------------------- inputs

    static DeviceBuffer gaussian(Backend backend, long count, long seed) {
        Random rnd = new Random(seed);
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) values[i] = (float) rnd.nextGaussian();
        DeviceBuffer b = backend.allocateFloats(count);
        b.copyFrom(values);
        return b;
    }

    static DeviceBuffer labels(Backend backend, int count, int classes, long seed) {
        DeviceBuffer b = backend.allocateInts(count);
        b.copyFrom(new Random(seed).ints(count, 0, classes).toArray());
        return b;
    }

    /** Closes the buffers (and anything else) in reverse order. */
    static void closeAll(AutoCloseable... things) {
        for (int i = things.length - 1; i >= 0; i--) {
            try {
                if (things[i] != null) things[i].close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    // ---------------------------------------------------------------- losses

    private static Workload softmaxCrossEntropy(Backend backend, Shape shape) {
        int n = shape.dim(0);
        int c = shape.dim(1);
        SoftmaxCrossEntropy ce = SoftmaxCrossEntropy.builder().backend(backend).build();
        DeviceBuffer logits = gaussian(backend, (long) n * c, 1);
        DeviceBuffer targets = labels(backend, n, c, 2);
        DeviceBuffer loss = backend.allocateFloats(1);
        DeviceBuffer grad = backend.allocateFloats((long) n * c);
        DeviceBuffer ws = ce.allocateWorkspace(n, c);
        return new Workload() {
            @Override
            public void run() {
                ce.forwardBackward(logits, c, targets, n, c, null, loss, grad, c, ws);
            }

            @Override
            public void synchronize() {
                backend.synchronize(logits.stream());
            }

            @Override
            public long bytesMoved() {
                return 2L * n * c * Float.BYTES + (long) n * Integer.BYTES;
            }

            @Override
            public void close() {
                closeAll(ce, logits, targets, loss, grad, ws);
            }
        };
    }

    /** Softmax focal with its defaults (gamma 2, alpha 1, mean), as bench/pytorch_peers.py runs it. */
    private static Workload softmaxFocal(Backend backend, Shape shape) {
        int n = shape.dim(0);
        int c = shape.dim(1);
        SoftmaxFocal focal = SoftmaxFocal.builder().backend(backend).build();
        DeviceBuffer logits = gaussian(backend, (long) n * c, 1);
        DeviceBuffer targets = labels(backend, n, c, 2);
        DeviceBuffer loss = backend.allocateFloats(1);
        DeviceBuffer grad = backend.allocateFloats((long) n * c);
        DeviceBuffer ws = focal.allocateWorkspace(n, c);
        return new Workload() {
            @Override
            public void run() {
                focal.forwardBackward(logits, c, targets, n, c, null, loss, grad, c, ws);
            }

            @Override
            public void synchronize() {
                backend.synchronize(logits.stream());
            }

            @Override
            public long bytesMoved() {
                return 2L * n * c * Float.BYTES + (long) n * Integer.BYTES;
            }

            @Override
            public void close() {
                closeAll(focal, logits, targets, loss, grad, ws);
            }
        };
    }

    /** Loss and feature gradient (mean), then the center update: a training step, as bench/pytorch_peers.py times it. */
    private static Workload center(Backend backend, Shape shape) {
        int n = shape.dim(0);
        int d = shape.dim(1);
        int c = shape.dim(2);
        CenterLoss center = CenterLoss.builder().backend(backend).build();
        DeviceBuffer features = gaussian(backend, (long) n * d, 1);
        DeviceBuffer labels = labels(backend, n, c, 2);
        DeviceBuffer centers = gaussian(backend, (long) c * d, 3);
        DeviceBuffer loss = backend.allocateFloats(1);
        DeviceBuffer grad = backend.allocateFloats((long) n * d);
        DeviceBuffer ws = center.allocateWorkspace(n, d, c);
        return new Workload() {
            @Override
            public void run() {
                center.forwardBackward(features, labels, centers, n, d, c, null, loss, grad, null, ws);
                center.updateCenters(features, labels, centers, n, d, c, ws);
            }

            @Override
            public void synchronize() {
                backend.synchronize(features.stream());
            }

            @Override
            public long bytesMoved() {
                // features read for the loss and the update, gradient written, the touched centers read and written
                return (3L * n * d + 2L * Math.min(n, c) * d) * Float.BYTES + (long) n * Integer.BYTES;
            }

            @Override
            public void close() {
                closeAll(features, labels, centers, loss, grad, ws);
            }
        };
    }

    /** Mean loss and the gradients of all three inputs (margin 1, p 2, eps 1e-6), as F.triplet_margin_loss. */
    private static Workload tripletMargin(Backend backend, Shape shape) {
        int n = shape.dim(0);
        int d = shape.dim(1);
        TripletMargin tm = TripletMargin.builder().backend(backend).build();
        DeviceBuffer a = gaussian(backend, (long) n * d, 1);
        DeviceBuffer p = gaussian(backend, (long) n * d, 2);
        DeviceBuffer q = gaussian(backend, (long) n * d, 3);
        DeviceBuffer loss = backend.allocateFloats(1);
        DeviceBuffer ga = backend.allocateFloats((long) n * d);
        DeviceBuffer gp = backend.allocateFloats((long) n * d);
        DeviceBuffer gq = backend.allocateFloats((long) n * d);
        DeviceBuffer ws = tm.allocateWorkspace(n, d);
        return new Workload() {
            @Override
            public void run() {
                tm.forwardBackward(a, p, q, n, d, null, loss, ga, gp, gq, ws);
            }

            @Override
            public void synchronize() {
                backend.synchronize(a.stream());
            }

            @Override
            public long bytesMoved() {
                return 6L * n * d * Float.BYTES;  // three inputs read, three gradients written
            }

            @Override
            public void close() {
                closeAll(a, p, q, loss, ga, gp, gq, ws);
            }
        };
    }

    /** Targets of 0 and 1, about {@code positives} of them 1 (pytorch_peers.py: rand < 0.1). */
    static DeviceBuffer binary(Backend backend, long count, double positives, long seed) {
        Random rnd = new Random(seed);
        float[] values = new float[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) values[i] = rnd.nextDouble() < positives ? 1f : 0f;
        DeviceBuffer b = backend.allocateFloats(count);
        b.copyFrom(values);
        return b;
    }

    /** An elementwise loss's fused device call: upstream gradient 1, the loss's own reduction. */
    private interface ElementwiseCall {
        void run(DeviceBuffer x, DeviceBuffer t, long count, DeviceBuffer loss, DeviceBuffer grad, DeviceBuffer ws);
    }

    private static Workload elementwise(Backend backend, long count, DeviceBuffer x, DeviceBuffer t, DeviceBuffer ws,
            ElementwiseCall call, AutoCloseable op) {
        DeviceBuffer loss = backend.allocateFloats(1);
        DeviceBuffer grad = backend.allocateFloats(count);
        return new Workload() {
            @Override
            public void run() {
                call.run(x, t, count, loss, grad, ws);
            }

            @Override
            public void synchronize() {
                backend.synchronize(x.stream());
            }

            @Override
            public long bytesMoved() {
                return 3L * count * Float.BYTES;  // x and t read once, the gradient written once
            }

            @Override
            public void close() {
                closeAll(op, x, t, loss, grad, ws);
            }
        };
    }

    private static Workload sigmoidFocal(Backend backend, Shape shape) {
        long count = (long) shape.dim(0) * shape.dim(1);
        // torchvision's defaults (alpha 0.25, gamma 2) and pytorch_peers.py's mean
        SigmoidFocal f = SigmoidFocal.builder().backend(backend).reduction(Reduction.MEAN).build();
        return elementwise(backend, count, gaussian(backend, count, 1), binary(backend, count, 0.1, 2),
                f.allocateWorkspace(count), (x, t, n, l, g, ws) -> f.forwardBackward(x, t, n, null, l, g, ws), f);
    }

    private static Workload smoothL1(Backend backend, Shape shape) {
        long count = shape.elements();
        SmoothL1 f = SmoothL1.builder().backend(backend).build();  // beta 1, mean
        return elementwise(backend, count, gaussian(backend, count, 1), gaussian(backend, count, 2),
                f.allocateWorkspace(count), (x, t, n, l, g, ws) -> f.forwardBackward(x, t, n, null, l, g, ws), f);
    }

    private static Workload huber(Backend backend, Shape shape) {
        long count = shape.elements();
        Huber f = Huber.builder().backend(backend).build();  // delta 1, mean
        return elementwise(backend, count, gaussian(backend, count, 1), gaussian(backend, count, 2),
                f.allocateWorkspace(count), (x, t, n, l, g, ws) -> f.forwardBackward(x, t, n, null, l, g, ws), f);
    }
}
