package org.culoss.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.function.Executable;

/**
 * The argument-check tests' rule: a bad argument is an {@link IllegalArgumentException} whose
 * message starts with the argument's name.
 */
public final class ArgumentAsserts {
    private ArgumentAsserts() {}

    /** {@code call} throws IllegalArgumentException, its message "argument ...". */
    public static void assertNames(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, argument);
        assertTrue(e.getMessage().startsWith(argument + " "), "'" + e.getMessage() + "' should name " + argument);
    }

    /** The message names the gradient first, then what it overlaps: exactly "grad overlaps other". */
    public static void assertOverlap(String grad, String other, Executable call) {
        assertNames(grad, call);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertEquals(grad + " overlaps " + other, e.getMessage());
    }
}
