package org.culoss;

/** The statuses of the C API ({@code culossStatus_t}), plus the device-side target error. */
public enum Status {
    SUCCESS(0),
    INVALID_VALUE(1),
    MISALIGNED(2),
    WORKSPACE_TOO_SMALL(3),
    NO_DEVICE(4),
    LAUNCH_FAILED(5),
    INTERNAL_ERROR(6),
    /** A data type this version does not compute. */
    NOT_SUPPORTED(7),
    /** The memory could not be allocated (the Java API throws {@link OutOfMemoryError}). */
    OUT_OF_MEMORY(8),
    /** A target outside [0, C) that is not the ignore index (reported by the kernel's error word). */
    INVALID_TARGET(-1),
    /** A native status this version of the binding does not know. */
    UNKNOWN(-2);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The {@code culossStatus_t} value, or a negative number for the Java-only statuses. */
    public int code() {
        return code;
    }

    static Status of(int code) {
        for (Status s : values()) {
            if (s.code == code && code >= 0) return s;
        }
        return UNKNOWN;
    }
}
