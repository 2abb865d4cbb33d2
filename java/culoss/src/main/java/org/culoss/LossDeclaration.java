package org.culoss;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A loss as a whole: its operation, the operations that change a tensor in place (the center
 * update), its builder and the parameters the case format names, bound to the builder's options.
 * Each loss class holds one; {@link Declarations} lists them for the tools.
 *
 * @param <B> the loss's builder
 */
final class LossDeclaration<B> {
    final Op<?> op;
    /** The other forms of the operation (soft targets), each chosen by the inputs a case gives. */
    final List<Op<?>> forms = new ArrayList<>();
    final List<Op<?>> inPlaceOps = new ArrayList<>();
    final Supplier<B> newBuilder;
    final BiConsumer<B, Backend> backend;
    final Function<B, ? extends LossFunction> build;
    final List<Param<B>> params = new ArrayList<>();
    /** Sets the per-class table, or null when the loss has none. */
    BiConsumer<B, float[]> table;
    /** The benchmark's parameters (case-format names) and shapes: sizes joined by x ("4096x1000"). */
    Map<String, Object> benchParams = Map.of();
    List<String> benchShapes = List.of();

    private LossDeclaration(Op<?> op, Supplier<B> newBuilder, BiConsumer<B, Backend> backend,
            Function<B, ? extends LossFunction> build) {
        this.op = op;
        this.newBuilder = newBuilder;
        this.backend = backend;
        this.build = build;
    }

    static <B> LossDeclaration<B> of(Op<?> op, Supplier<B> newBuilder, BiConsumer<B, Backend> backend,
            Function<B, ? extends LossFunction> build) {
        return new LossDeclaration<>(op, newBuilder, backend, build);
    }

    LossDeclaration<B> param(Param<B> param) {
        params.add(param);
        return this;
    }

    LossDeclaration<B> table(BiConsumer<B, float[]> table) {
        this.table = table;
        return this;
    }

    /** The shapes the benchmarks time, with the parameters they set beyond the defaults. */
    LossDeclaration<B> bench(Map<String, Object> params, String... shapes) {
        this.benchParams = params;
        this.benchShapes = List.of(shapes);
        return this;
    }

    LossDeclaration<B> form(Op<?> form) {
        forms.add(form);
        return this;
    }

    /** The operation and its other forms. */
    List<Op<?>> forms() {
        List<Op<?>> out = new ArrayList<>();
        out.add(op);
        out.addAll(forms);
        return out;
    }

    /**
     * The form a case with these inputs runs: a form that folds trailing axes ([N, C, d1..dk]
     * logits) when its first input has at least its rank, else the first that reads every tensor
     * the case gives and is given every tensor it requires (inputs and labels); the operation
     * itself when none is (its checks then name what is missing or extra).
     */
    Op<?> opFor(Map<String, Declarations.Array> inputs) {
        for (boolean foldedPass : new boolean[] {true, false}) {
            for (Op<?> f : forms()) {
                if ((f.folded >= 0) != foldedPass || !fits(f, inputs)) continue;
                if (foldedPass) {
                    Operand first = f.operands.get(0);
                    if (inputs.get(first.caseName()).shape().length < first.dims.length) continue;
                }
                return f;
            }
        }
        return op;
    }

    private boolean fits(Op<?> f, Map<String, Declarations.Array> inputs) {
        for (Operand o : f.operands) {
            boolean read = o.role == Operand.Role.INPUT || o.role == Operand.Role.LABELS;
            if (read && !o.optional && !inputs.containsKey(o.caseName())) return false;
        }
        for (String name : inputs.keySet()) {
            if (!reads(f, name)) return false;
        }
        return true;
    }

    /** Whether a case of form {@code f} may give the tensor {@code name} (its own, or an in-place operation's). */
    boolean reads(Op<?> f, String name) {
        for (Operand o : f.operands) {
            if (!o.role.written() && o.caseName().equals(name)) return true;
        }
        for (Op<?> u : inPlaceOps) {
            for (Operand o : u.operands) {
                if (o.caseName().equals(name)) return true;
            }
        }
        return false;
    }

    LossDeclaration<B> inPlace(Op<?> update) {
        inPlaceOps.add(update);
        return this;
    }

    String name() {
        return op.loss;
    }

    Param<B> param(String name) {
        for (Param<B> p : params) {
            if (p.name.equals(name)) return p;
        }
        return null;
    }
}
