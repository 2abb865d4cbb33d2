package org.culoss;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The declared losses, for the tools ({@code ./culoss verify}, {@code ./culoss bench},
 * {@code ./culoss losses --json}): each loss's name, parameters and tensors as the reference case
 * format names them, and one generic way to run a loss from those names. Applications use the
 * typed loss classes; this view follows their declarations and may change with them.
 */
public final class Declarations {
    /** Every loss: each class of this package with a {@code DECLARATION}, listed at build time. */
    private static final List<LossDeclaration<?>> ALL = DeclaredLosses.ALL;

    private Declarations() {}

    /** Every declaration, for the tests that run over all of them. */
    static List<LossDeclaration<?>> all() {
        return ALL;
    }

    /** A tensor of a case: its shape and its values, float or int32. */
    public record Array(int[] shape, float[] floats, int[] ints) {
        public static Array ofFloats(int[] shape, float[] values) {
            return new Array(shape, values, null);
        }

        public static Array ofInts(int[] shape, int[] values) {
            return new Array(shape, null, values);
        }
    }

    /** The tensors a run produced, by case name, and the number of terms of its largest sum. */
    public record Evaluation(Map<String, Array> outputs, long terms) {}

    /** Where a case's tensors live when it runs: each of the ways a caller reaches a loss. */
    public enum Layout {
        /** {@code float[]} and {@code int[]}. */
        ARRAYS,
        /** Heap buffers used from a position past their start. */
        HEAP_POSITION,
        /** Direct buffers one float past 16-byte alignment. */
        DIRECT_UNALIGNED,
        /** Direct buffers in the other byte order (ByteBuffer's default, big-endian). */
        DIRECT_SWAPPED,
        /** Backend memory ({@link DeviceBuffer}s), queued and read back. */
        DEVICE
    }

    /** A loss built and its inputs checked against its declaration; {@link #run} computes it. */
    public interface Prepared {
        /** Runs the loss (forward and every gradient in one call, then each in-place operation on a copy). */
        Evaluation run();

        /** The same, with the tensors placed as {@code layout} says. */
        Evaluation run(Layout layout);
    }

    /** The snake_case names of the declared losses. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (LossDeclaration<?> d : ALL) out.add(d.name());
        return out;
    }

    public static boolean has(String loss) {
        return find(loss) != null;
    }

    /** The parameters a case of {@code loss} may give. */
    public static Set<String> params(String loss) {
        Set<String> out = new LinkedHashSet<>();
        for (Param<?> p : get(loss).params) out.add(p.name);
        return out;
    }

    /** The input tensors a case of {@code loss} may give, required or optional. */
    public static Set<String> inputs(String loss) {
        LossDeclaration<?> d = get(loss);
        Set<String> out = new LinkedHashSet<>();
        for (Op<?> f : d.forms()) {
            for (Operand o : f.operands) {
                if (!o.role.written()) out.add(o.caseName());
            }
        }
        for (Op<?> u : d.inPlaceOps) {
            for (Operand o : u.operands) out.add(o.caseName());
        }
        return out;
    }

    /** Whether the input {@code name} of {@code loss} is int32 (labels), not float32. */
    public static boolean intInput(String loss, String name) {
        LossDeclaration<?> d = get(loss);
        for (Op<?> f : d.forms()) {
            for (Operand o : f.operands) {
                if (o.caseName().equals(name)) return o.dtype == DType.INT32;
            }
        }
        return false;
    }

    /** The outputs every case of {@code loss} must expect: the loss, its gradients, the in-place results. */
    public static Set<String> requiredOutputs(String loss) {
        Set<String> out = new LinkedHashSet<>();
        LossDeclaration<?> d = get(loss);
        for (Operand o : d.op.operands) {
            if (o.role.written() && !o.onRequest) out.add(o.caseName());
        }
        for (Op<?> u : d.inPlaceOps) {
            for (Operand o : u.operands) {
                if (o.role == Operand.Role.IN_OUT) out.add(inPlaceName(d, u, o));
            }
        }
        return out;
    }

    /**
     * Builds {@code loss} on {@code backend} from case parameters (values as JSON gives them:
     * {@link Number}, {@link Boolean}, {@link String}, null for JSON null) and checks the inputs'
     * shapes against the declaration. A parameter or input that does not fit throws
     * {@link IllegalArgumentException} whose message starts with {@code params.} or {@code inputs.}.
     */
    public static Prepared prepare(String loss, Backend backend, Map<String, Object> params,
            Map<String, Array> inputs) {
        LossDeclaration<?> d = get(loss);
        return new CaseRun(d, build(d, backend, params, inputs), inputs);
    }

    /**
     * The loss of {@code d} on {@code backend} with case parameters (the builder's defaults for
     * the others) and, when {@code inputs} gives it, the per-class table.
     */
    static <B> LossFunction build(LossDeclaration<B> d, Backend backend, Map<String, Object> params,
            Map<String, Array> inputs) {
        B builder = d.newBuilder.get();
        d.backend.accept(builder, backend);
        for (Param<B> p : d.params) {
            boolean present = params.containsKey(p.name);
            Object value = params.get(p.name);
            if (p.nullMeansTable != null) {
                boolean tableGiven = inputs.containsKey(p.nullMeansTable);
                if (present && value == null && !tableGiven && !p.nullAlone) {
                    throw new IllegalArgumentException("params." + p.name + " is null but inputs." + p.nullMeansTable
                            + " is missing");
                }
                if (present && value != null && tableGiven) {  // absent with the table: per class too
                    throw new IllegalArgumentException("inputs." + p.nullMeansTable + " is given but params." + p.name
                            + " is not null");
                }
            }
            if (present) p.apply(builder, value);
            else if (p.onAbsent != null) p.onAbsent.accept(builder);
        }
        for (Op<?> f : d.forms()) {
            for (Operand o : f.operands) {
                if (o.role == Operand.Role.TABLE && inputs.containsKey(o.caseName())) {
                    d.table.accept(builder, CaseRun.require(inputs, o).floats());
                    return d.build.apply(builder);  // the forms share one table
                }
            }
        }
        return d.build.apply(builder);
    }

    /** Every declared loss, operation, tensor and parameter as JSON: {@code ./culoss losses --json}. */
    public static String json() {
        return Listing.json(ALL);
    }

    // ---------------------------------------------------------------- benchmarks

    /** A benchmark's call, repeated: buffers in backend memory, allocated and filled once. */
    public interface Workload extends AutoCloseable {
        /** Queues one forward+backward (and each in-place operation) on the buffers' stream. */
        void run();

        /** Waits until what {@link #run} queued is done. */
        void synchronize();

        /** The bytes one run must move: each tensor read or written once (class tables: the rows labels name). */
        long bytesMoved();

        @Override
        void close();
    }

    /**
     * What the benchmarks can time: each loss by its name, then each other form of its operation
     * by the form's name ({@code softmax_cross_entropy_probs}: soft targets), on the loss's shapes.
     */
    public static List<String> benchNames() {
        List<String> out = new ArrayList<>();
        for (LossDeclaration<?> d : ALL) {
            out.add(d.name());
            for (Op<?> f : d.forms) {
                if (f.benched()) out.add(f.name);
            }
        }
        return out;
    }

    /** The shapes the benchmarks time for {@code loss} (a {@link #benchNames} name), sizes joined by x ("4096x1000"). */
    public static List<String> benchShapes(String loss) {
        return benchDeclaration(loss).benchShapes;
    }

    /** The sizes of {@code loss}'s shapes, upper case joined by x: "NxC". */
    public static String shapeForm(String loss) {
        return String.join("x", benchOp(loss).sizeNames.stream().map(String::toUpperCase).toList());
    }

    /**
     * The benchmark workload of {@code loss} at {@code sizes} (in {@link #shapeForm} order; an
     * elementwise loss takes any shape, as its inputs do) on
     * {@code backend}: seeded inputs, the benchmark's parameters, the fused call with every
     * gradient the array overloads give, then each in-place operation.
     */
    public static Workload workload(String loss, Backend backend, long... sizes) {
        LossDeclaration<?> d = benchDeclaration(loss);
        Op<?> op = benchOp(loss);
        if (op.sizeNames.size() == 1 && sizes.length > 1) {
            sizes = new long[] {Sizes.product("the shape", sizes)};  // elementwise: any shape
        }
        if (sizes.length != op.sizeNames.size()) {
            throw new IllegalArgumentException(loss + " takes a shape " + shapeForm(loss) + ", not " + sizes.length
                    + " sizes");
        }
        return new BenchRun(d, op, build(d, backend, d.benchParams, Map.of()), sizes);
    }

    /** The declaration of a {@link #benchNames} name. */
    private static LossDeclaration<?> benchDeclaration(String name) {
        for (LossDeclaration<?> d : ALL) {
            for (Op<?> f : d.forms()) {
                if (f == d.op ? d.name().equals(name) : f.name.equals(name)) return d;
            }
        }
        throw new IllegalArgumentException("no benchmark \"" + name + "\" (known: " + benchNames() + ")");
    }

    private static Op<?> benchOp(String name) {
        LossDeclaration<?> d = benchDeclaration(name);
        for (Op<?> f : d.forms) {
            if (f.name.equals(name)) return f;
        }
        return d.op;
    }

    // ---------------------------------------------------------------- helpers

    private static LossDeclaration<?> find(String loss) {
        for (LossDeclaration<?> d : ALL) {
            if (d.name().equals(loss)) return d;
        }
        return null;
    }

    private static LossDeclaration<?> get(String loss) {
        LossDeclaration<?> d = find(loss);
        if (d == null) throw new IllegalArgumentException("unknown loss \"" + loss + "\" (declared: " + names() + ")");
        return d;
    }

    static String inPlaceName(LossDeclaration<?> d, Op<?> u, Operand o) {
        return o.caseName() + "_after_" + u.name.substring(d.name().length() + 1);
    }


}
