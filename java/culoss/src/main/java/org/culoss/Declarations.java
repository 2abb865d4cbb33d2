package org.culoss;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
    /** Every loss, in the order the listing gives them. */
    private static final List<LossDeclaration<?>> ALL = List.of(
            SoftmaxCrossEntropy.DECLARATION,
            SoftmaxFocal.DECLARATION,
            SigmoidFocal.DECLARATION,
            SmoothL1.DECLARATION,
            Huber.DECLARATION,
            TripletMargin.DECLARATION,
            CenterLoss.DECLARATION);

    private Declarations() {}

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

    /** A loss built and its inputs checked against its declaration; {@link #run} computes it. */
    public interface Prepared {
        /** Runs the loss (forward and every gradient in one call, then each in-place operation on a copy). */
        Evaluation run();
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
        for (Operand o : d.op.operands) {
            if (!o.role.written()) out.add(o.caseName());
        }
        for (Op<?> u : d.inPlaceOps) {
            for (Operand o : u.operands) out.add(o.caseName());
        }
        return out;
    }

    /** Whether the input {@code name} of {@code loss} is int32 (labels), not float32. */
    public static boolean intInput(String loss, String name) {
        LossDeclaration<?> d = get(loss);
        for (Operand o : d.op.operands) {
            if (o.caseName().equals(name)) return o.dtype == DType.INT32;
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
        return prepared(get(loss), backend, params, inputs);
    }

    private static <B> Prepared prepared(LossDeclaration<B> d, Backend backend, Map<String, Object> params,
            Map<String, Array> inputs) {
        B builder = d.newBuilder.get();
        d.backend.accept(builder, backend);
        for (Param<B> p : d.params) {
            boolean present = params.containsKey(p.name);
            Object value = params.get(p.name);
            if (p.nullMeansTable != null) {
                boolean tableGiven = inputs.containsKey(p.nullMeansTable);
                if (present && value == null && !tableGiven) {
                    throw new IllegalArgumentException("params." + p.name + " is null but inputs." + p.nullMeansTable
                            + " is missing");
                }
                if (!(present && value == null) && tableGiven) {
                    throw new IllegalArgumentException("inputs." + p.nullMeansTable + " is given but params." + p.name
                            + " is not null");
                }
            }
            if (present) p.apply(builder, value);
            else if (p.onAbsent != null) p.onAbsent.accept(builder);
        }
        Op<?> op = d.op;
        Operand table = op.operands.stream().filter(o -> o.role == Operand.Role.TABLE).findFirst().orElse(null);
        if (table != null && inputs.containsKey(table.caseName())) {
            d.table.accept(builder, floats(inputs, table));
        }
        LossFunction built = d.build.apply(builder);
        return new Run(d, built, inputs);
    }

    /** One case's call: sizes bound from the input shapes, then the declared operations. */
    private static final class Run implements Prepared {
        private final LossDeclaration<?> d;
        private final LossFunction loss;
        private final Map<String, Array> inputs;
        private final long[] sizes;
        /** The shape of one sample's loss for NONE: an elementwise input's own shape, else [n]. */
        private final int[] perSample;

        Run(LossDeclaration<?> d, LossFunction loss, Map<String, Array> inputs) {
            this.d = d;
            this.loss = loss;
            this.inputs = inputs;
            Op<?> op = d.op;
            sizes = new long[op.sizeNames.size()];
            boolean[] bound = new boolean[sizes.length];
            boolean flat = sizes.length == 1;
            int[] element = null;
            for (Operand o : op.operands) {
                if (o.role != Operand.Role.INPUT && o.role != Operand.Role.LABELS) continue;
                Array a = require(inputs, o);
                if (flat) {
                    if (element == null) {
                        element = a.shape();
                        sizes[0] = Arrays.stream(element).asLongStream().reduce(1, Math::multiplyExact);
                    } else if (!Arrays.equals(element, a.shape())) {
                        throw shape(o, a, Arrays.toString(element) + " as inputs." + op.operands.get(0).caseName());
                    }
                    continue;
                }
                if (a.shape().length != o.dims.length) throw shape(o, a, dimsText(op, o));
                for (int k = 0; k < o.dims.length; k++) {
                    int s = o.dims[k];
                    if (bound[s] && sizes[s] != a.shape()[k]) throw shape(o, a, expected(o));
                    sizes[s] = a.shape()[k];
                    bound[s] = true;
                }
            }
            perSample = flat ? element : new int[] {(int) sizes[0]};
            for (Operand o : op.operands) {
                Array a = inputs.get(o.caseName());
                if (a == null) continue;
                if (o.role == Operand.Role.TABLE && !Arrays.equals(a.shape(), dimsOf(o))) {
                    throw shape(o, a, expected(o));
                }
                if (o.role == Operand.Role.GRAD_OUTPUT) {
                    if (loss.reduction != Reduction.NONE) {
                        throw new IllegalArgumentException(
                                "inputs.grad_output is only for reduction none (sum and mean use 1)");
                    }
                    if (!Arrays.equals(a.shape(), perSample)) throw shape(o, a, Arrays.toString(perSample));
                }
            }
        }

        @Override
        public Evaluation run() {
            try (LossFunction closing = loss) {
                Map<String, Array> out = new LinkedHashMap<>();
                Op<?> op = d.op;
                Call call = op.call();
                System.arraycopy(sizes, 0, call.sizes, 0, sizes.length);
                for (Operand o : op.operands) {
                    if (o.role == Operand.Role.TABLE) {
                        if (loss.table() != null) {
                            call.host[o.slot] = FloatBuffer.wrap(loss.table());
                            call.device[o.slot] = loss.deviceTable();
                        }
                        continue;
                    }
                    if (o.role.written()) {
                        float[] values = new float[Math.toIntExact(o.perSample() ? perSampleLength() : elements(o))];
                        call.host[o.slot] = FloatBuffer.wrap(values);
                        out.put(o.caseName(), Array.ofFloats(o.perSample()
                                ? (loss.reduction == Reduction.NONE ? perSample : new int[0]) : dimsOf(o), values));
                    } else {
                        call.host[o.slot] = wrap(inputs, o, false);
                    }
                    if (o.strided()) call.stride[o.slot] = sizes[o.dims[1]];
                }
                long terms = elements(op.operands.get(0));
                Invoker.host(op, loss, call);
                for (Op<?> u : d.inPlaceOps) {
                    Call c = u.call();
                    for (int i = 0; i < u.sizeNames.size(); i++) c.sizes[i] = sizes[op.size(u.sizeNames.get(i))];
                    for (Operand o : u.operands) {
                        c.host[o.slot] = wrap(inputs, o, o.role == Operand.Role.IN_OUT);
                        if (o.role == Operand.Role.IN_OUT) {
                            out.put(inPlaceName(d, u, o), Array.ofFloats(dimsOf(o), ((FloatBuffer) c.host[o.slot]).array()));
                        }
                    }
                    Invoker.host(u, loss, c);
                }
                return new Evaluation(out, terms);
            }
        }

        private long perSampleLength() {
            return loss.reduction == Reduction.NONE ? sizes[0] : 1;
        }

        private long elements(Operand o) {
            if (sizes.length == 1) return sizes[0];
            long n = 1;
            for (int s : o.dims) n = Math.multiplyExact(n, sizes[s]);
            return n;
        }

        private int[] dimsOf(Operand o) {
            if (sizes.length == 1 && !o.perSample()) return perSample;
            int[] shape = new int[o.dims.length];
            for (int k = 0; k < shape.length; k++) shape[k] = (int) sizes[o.dims[k]];
            return shape;
        }

        private String expected(Operand o) {
            return Arrays.toString(dimsOf(o));
        }
    }

    // ---------------------------------------------------------------- the listing

    /** Every declared loss, operation, tensor and parameter as JSON: {@code ./culoss losses --json}. */
    public static String json() {
        StringBuilder j = new StringBuilder("{\"losses\": [");
        for (int i = 0; i < ALL.size(); i++) {
            LossDeclaration<?> d = ALL.get(i);
            j.append(i == 0 ? "\n" : ",\n").append("  {\"name\": ").append(quote(d.name()));
            j.append(", \"params\": [");
            for (int k = 0; k < d.params.size(); k++) {
                Param<?> p = d.params.get(k);
                j.append(k == 0 ? "" : ", ").append("{\"name\": ").append(quote(p.name)).append(", \"kind\": ")
                        .append(quote(p.kind.name().toLowerCase())).append(", \"default\": ").append(quote(p.fallback))
                        .append(", \"nullable\": ").append(p.onNull != null).append('}');
            }
            j.append("],\n   \"inputs\": ").append(list(inputs(d.name())));
            j.append(", \"outputs\": ").append(list(requiredOutputs(d.name())));
            j.append(",\n   \"operations\": [");
            List<Op<?>> ops = new ArrayList<>();
            ops.add(d.op);
            ops.addAll(d.inPlaceOps);
            for (int k = 0; k < ops.size(); k++) {
                j.append(k == 0 ? "\n" : ",\n");
                operation(j, ops.get(k));
            }
            j.append("]}");
        }
        return j.append("\n]}\n").toString();
    }

    private static void operation(StringBuilder j, Op<?> op) {
        j.append("    {\"name\": ").append(quote(op.name)).append(", \"entry_points\": [");
        if (op.oneEntryPoint) {
            j.append(quote(op.nativeName));
        } else {
            for (Mode m : Mode.values()) j.append(m.ordinal() == 0 ? "" : ", ").append(quote(op.entryPoint(m)));
        }
        j.append("], \"workspace_query\": ").append(quote(op.queryName));
        j.append(", \"error_word\": ").append(op.labels != null);
        j.append(", \"sizes\": [");
        for (int i = 0; i < op.sizeNames.size(); i++) {
            j.append(i == 0 ? "" : ", ").append("{\"name\": ").append(quote(op.sizeNames.get(i))).append(", \"min\": ")
                    .append(op.minimum[i]).append('}');
        }
        j.append("],\n     \"tensors\": [");
        for (int i = 0; i < op.operands.size(); i++) {
            Operand o = op.operands.get(i);
            j.append(i == 0 ? "\n" : ",\n").append("       {\"name\": ").append(quote(o.caseName()))
                    .append(", \"role\": ").append(quote(o.role.name().toLowerCase()))
                    .append(", \"dtype\": ").append(quote(o.dtype.label))
                    .append(", \"shape\": ").append(quote(o.shape))
                    .append(", \"stride\": ").append(o.strided() ? quote(Operand.snake(o.strideName)) : "null")
                    .append(", \"optional\": ").append(o.optional)
                    .append(", \"in_place_of\": ").append(list(o.inPlaceOf.stream().map(n -> op.operands.get(op.slot(n))
                            .caseName()).toList()))
                    .append('}');
        }
        j.append("]}");
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

    private static String inPlaceName(LossDeclaration<?> d, Op<?> u, Operand o) {
        return o.caseName() + "_after_" + u.name.substring(d.name().length() + 1);
    }

    private static Array require(Map<String, Array> inputs, Operand o) {
        Array a = inputs.get(o.caseName());
        if (a == null) throw new IllegalArgumentException("inputs." + o.caseName() + " is missing");
        if (o.dtype == DType.INT32 ? a.ints() == null : a.floats() == null) {
            throw new IllegalArgumentException("inputs." + o.caseName() + " is not " + o.dtype.label);
        }
        return a;
    }

    private static float[] floats(Map<String, Array> inputs, Operand o) {
        return require(inputs, o).floats();
    }

    /** An input as a buffer (a copy when the operation writes it), or null when the case leaves it out. */
    private static java.nio.Buffer wrap(Map<String, Array> inputs, Operand o, boolean copy) {
        Array a = inputs.get(o.caseName());
        if (a == null) return null;
        require(inputs, o);
        if (o.dtype == DType.INT32) return IntBuffer.wrap(a.ints());
        return FloatBuffer.wrap(copy ? a.floats().clone() : a.floats());
    }

    private static IllegalArgumentException shape(Operand o, Array a, String expected) {
        return new IllegalArgumentException("inputs." + o.caseName() + " has shape " + Arrays.toString(a.shape())
                + ", not " + expected);
    }

    private static String dimsText(Op<?> op, Operand o) {
        StringBuilder s = new StringBuilder("[");
        for (int k = 0; k < o.dims.length; k++) {
            s.append(k == 0 ? "" : ", ").append(op.sizeNames.get(o.dims[k]).toUpperCase());
        }
        return s.append(']').toString();
    }

    private static String list(java.util.Collection<String> names) {
        StringBuilder s = new StringBuilder("[");
        for (String n : names) s.append(s.length() == 1 ? "" : ", ").append(quote(n));
        return s.append(']').toString();
    }

    private static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') q.append('\\');
            q.append(ch);
        }
        return q.append('"').toString();
    }
}
