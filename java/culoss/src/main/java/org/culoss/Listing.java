package org.culoss;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The declarations as JSON, for {@code ./culoss losses --json} and the scripts that read it. */
final class Listing {
    private Listing() {}

    static String json(List<LossDeclaration<?>> all) {
        StringBuilder j = new StringBuilder("{\"losses\": [");
        for (int i = 0; i < all.size(); i++) {
            LossDeclaration<?> d = all.get(i);
            j.append(i == 0 ? "\n" : ",\n").append("  {\"name\": ").append(quote(d.name()));
            j.append(", \"params\": [");
            for (int k = 0; k < d.params.size(); k++) {
                Param<?> p = d.params.get(k);
                j.append(k == 0 ? "" : ", ").append("{\"name\": ").append(quote(p.name)).append(", \"kind\": ")
                        .append(quote(p.kind.name().toLowerCase())).append(", \"default\": ").append(quote(p.fallback))
                        .append(", \"nullable\": ").append(p.onNull != null).append('}');
            }
            j.append("],\n   \"bench\": {\"shapes\": ").append(list(d.benchShapes)).append(", \"params\": {");
            int p = 0;
            for (var e : d.benchParams.entrySet()) {
                j.append(p++ == 0 ? "" : ", ").append(quote(e.getKey())).append(": ").append(quote(String.valueOf(e.getValue())));
            }
            j.append("}}");
            j.append(",\n   \"forms\": ").append(list(d.forms.stream().filter(Op::benched).map(f -> f.name).toList()));
            j.append(",\n   \"inputs\": ").append(list(Declarations.inputs(d.name())));
            j.append(", \"outputs\": ").append(list(Declarations.requiredOutputs(d.name())));
            j.append(",\n   \"operations\": [");
            List<Op<?>> ops = new ArrayList<>();
            ops.addAll(d.forms());
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

    private static String list(Collection<String> names) {
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
    }}
