package org.culoss;

import java.util.List;

/**
 * One tensor of a declared operation: its name (as the error messages give it), its role, its
 * element type, its shape over the operation's sizes, and which inputs it may be written over.
 * Built by {@link Op.Builder}; the slot is its position in the declaration and in every call.
 */
final class Operand {
    enum Role {
        /** Read only. */
        INPUT,
        /** Class indices in [0, c), checked on the device; a bad one sets the error word. */
        LABELS,
        /** A per-class table the loss object owns (class weights, per-class alpha). */
        TABLE,
        /** The upstream gradient: one value per sample for {@code NONE}, else one; null means 1. */
        GRAD_OUTPUT,
        /** The loss: one value per sample for {@code NONE}, else one. */
        LOSS,
        /** A gradient. */
        GRAD,
        /** A forward result beside the loss (L-Softmax's modified logits). */
        OUTPUT,
        /** Read and written in place (the centers of the center update). */
        IN_OUT;

        boolean written() {
            return this == LOSS || this == GRAD || this == OUTPUT || this == IN_OUT;
        }
    }

    /** The shape {@code loss} stands for: one value per sample for {@code NONE}, else one. */
    static final String PER_SAMPLE = "loss";

    final String name;
    final Role role;
    final DType dtype;
    /** Size names joined by {@code *} ({@code n*c}), or {@link #PER_SAMPLE}. */
    final String shape;
    /** The name of its row stride (rows of the shape's last size, a stride of at least that), or null. */
    final String strideName;
    /** May be absent from a call (an output that is not wanted, an upstream gradient of 1). */
    final boolean optional;
    /** Inputs this output may be exactly: the same start, the same extent, the same stride. */
    final List<String> inPlaceOf;
    /** A gradient the array overloads compute only on request (the center gradient). */
    final boolean onRequest;
    /** An input of probabilities in [0, 1] (binary targets): what the bench fills it with. */
    final boolean probability;
    final int slot;
    /** Indices into the operation's sizes, resolved by the builder; empty for {@link #PER_SAMPLE}. */
    final int[] dims;

    Operand(String name, Role role, DType dtype, String shape, String strideName, boolean optional,
            List<String> inPlaceOf, boolean onRequest, boolean probability, int slot, int[] dims) {
        this.name = name;
        this.role = role;
        this.dtype = dtype;
        this.shape = shape;
        this.strideName = strideName;
        this.optional = optional;
        this.inPlaceOf = List.copyOf(inPlaceOf);
        this.onRequest = onRequest;
        this.probability = probability;
        this.slot = slot;
        this.dims = dims;
    }

    boolean strided() {
        return strideName != null;
    }

    boolean perSample() {
        return shape.equals(PER_SAMPLE);
    }

    /** The name in the case format and the listing: {@code gradLogits} is {@code grad_logits}. */
    String caseName() {
        return snake(name);
    }

    /** {@code gradStride} as {@code grad_stride}: the case format's and the C header's spelling. */
    static String snake(String camel) {
        StringBuilder out = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) out.append('_').append(Character.toLowerCase(ch));
            else out.append(ch);
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return name;
    }
}
