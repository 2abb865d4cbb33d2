package org.culoss;

/**
 * The argument checks every loss runs before it calls a backend. Each throws an
 * {@link IllegalArgumentException} whose message starts with the argument's name, so a caller
 * sees which one was wrong; nothing native runs with an argument that failed one.
 */
final class Checks {
    private Checks() {}

    static <T> T notNull(T value, String name) {
        if (value == null) throw new IllegalArgumentException(name + " is null");
        return value;
    }

    static long nonNegative(long value, String name) {
        if (value < 0) throw new IllegalArgumentException(name + " (" + value + ") is negative");
        return value;
    }

    static long positive(long value, String name) {
        if (value < 1) throw new IllegalArgumentException(name + " (" + value + ") must be at least 1");
        return value;
    }

    static float finite(float value, String name) {
        if (!Float.isFinite(value)) throw new IllegalArgumentException(name + " (" + value + ") is not finite");
        return value;
    }

    /** Copies {@code values} (null stays null) after checking that each is finite. */
    static float[] finiteCopy(float[] values, String name) {
        if (values == null) return null;
        if (values.length == 0) throw new IllegalArgumentException(name + " is empty");
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] (" + values[i] + ") is not finite");
            }
        }
        return values.clone();
    }

    /** A host buffer or array holds at least {@code needed} elements from its position. */
    static void remaining(long remaining, long needed, String name) {
        if (remaining < needed) {
            throw new IllegalArgumentException(name + " has " + remaining + " elements, needs " + needed);
        }
    }

    /** A row stride of at least the row length. */
    static void stride(long stride, long rowLength, String name, String rowName) {
        if (stride < rowLength) {
            throw new IllegalArgumentException(name + " (" + stride + ") is less than " + rowName + " (" + rowLength + ")");
        }
    }

    /** Memory of the backend the loss runs on, at least {@code neededBytes} long. */
    static void device(DeviceBuffer buffer, Backend backend, long neededBytes, String name) {
        if (buffer == null && neededBytes > 0) {
            throw new IllegalArgumentException(name + " is null, needs " + neededBytes + " bytes");
        }
        notNull(buffer, name);
        if (buffer.backend() != backend) {
            throw new IllegalArgumentException(name + " is memory of backend " + buffer.backend()
                    + ", this loss runs on " + backend);
        }
        if (buffer.bytes() < neededBytes) {
            throw new IllegalArgumentException(name + " has " + buffer.bytes() + " bytes, needs " + neededBytes);
        }
    }

    /** rows x cols as a Java array length, or an exception that says to use buffers. */
    static int arrayLength(long rows, long cols, String what) {
        long len = Sizes.product(what, rows, cols);
        if (len > Sizes.MAX_ARRAY_LENGTH) {
            throw new IllegalArgumentException(what + " (" + len + " elements) is too large for a Java array; use buffers");
        }
        return (int) len;
    }
}
