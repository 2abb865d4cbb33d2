package org.culoss.tools;

/** A case that cannot be run as written: malformed, or naming a loss, parameter or tensor we do not know. */
public class CaseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CaseException(String message) {
        super(message);
    }

    public CaseException(String message, Throwable cause) {
        super(message, cause);
    }
}
