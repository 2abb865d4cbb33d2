package org.culoss;

/**
 * The element type of a declared tensor. Every float tensor is {@code FLOAT32} today; the
 * half-precision inputs (bf16, fp16) will be added here, and a declaration then says which of its
 * tensors may take them. Labels are {@code INT32}, as the C API takes them.
 */
enum DType {
    FLOAT32("float32", 4),
    INT32("int32", 4);

    /** The name the case format and {@code ./culoss losses --json} use. */
    final String label;
    final int bytes;

    DType(String label, int bytes) {
        this.label = label;
        this.bytes = bytes;
    }
}
