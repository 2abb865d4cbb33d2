package org.culoss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one size helper: exact where a long holds the size, refused (naming it) where not. */
class SizesTest {
    @Test
    void bytesAreExactUpToTheLastCountThatFits() {
        assertEquals(Long.MAX_VALUE / 4 * 4, Sizes.bytes(Long.MAX_VALUE / 4, 4, "count"));
        assertEquals(0, Sizes.bytes(0, 4, "count"));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Sizes.bytes(Long.MAX_VALUE / 4 + 1, 4, "count"));
        assertTrue(e.getMessage().startsWith("count (2305843009213693952)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sizes.bytes(-1, 4, "count"));
    }

    @Test
    void productsThatWrapAreRefusedNotWrapped() {
        // 2^62 * 4 wraps to 0 in two's complement: the bug this helper exists for.
        assertEquals(0L, (1L << 62) * 4);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Sizes.product("n * c", 1L << 62, 4));
        assertEquals("n * c (4611686018427387904 * 4) is more than a long counts", e.getMessage());
        assertEquals(6L * 7 * 11, Sizes.product("x", 6, 7, 11));
    }

    @Test
    void rowsExtentEndsAtTheLastRowsEnd() {
        assertEquals(0, Sizes.exactRowsExtent(0, 1L << 62, 5));
        assertEquals(2 * 8 + 5, Sizes.exactRowsExtent(3, 8, 5));
        assertThrows(ArithmeticException.class, () -> Sizes.exactRowsExtent((1L << 61) + 5, 4, 4));
    }
}
