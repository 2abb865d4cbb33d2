package org.culoss;

/**
 * The element type of a declared tensor. Every float tensor is {@code FLOAT32} today; the
 * half-precision inputs (bf16, fp16) will be added here with their {@code culossDataType_t}, and a
 * call passes the type of its float tensors to the C entry point's {@code dtype} argument (per-class
 * tables stay float32). Labels are {@code INT32}, as the C API takes them.
 */
enum DType {
    FLOAT32("float32", 4, 0),
    INT32("int32", 4, -1);

    /** The name the case format and {@code ./culoss losses --json} use. */
    final String label;
    final int bytes;
    /** Its {@code culossDataType_t}, or -1 for the labels' int32 (which the C API fixes). */
    final int code;

    DType(String label, int bytes, int code) {
        this.label = label;
        this.bytes = bytes;
        this.code = code;
    }
}
