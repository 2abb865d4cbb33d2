package org.culoss;

/**
 * The one exception a backend throws for a failed computation: it carries the native status
 * (zstd-jni's model). Arguments that Java can check before a call (sizes, lengths, options)
 * fail earlier, with an {@link IllegalArgumentException} that names the argument.
 */
public class CulossException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public CulossException(Status status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
