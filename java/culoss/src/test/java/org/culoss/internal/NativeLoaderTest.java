package org.culoss.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** -Dculoss.native: the two library names in any case; anything else is refused, not read as cuda. */
class NativeLoaderTest {
    @Test
    void namesAreReadInAnyCase() {
        assertEquals("emulated", NativeLoader.parseKind("Emulated"));
        assertEquals("emulated", NativeLoader.parseKind(" EMULATED "));
        assertEquals("cuda", NativeLoader.parseKind("CUDA"));
        assertEquals("cuda", NativeLoader.parseKind(null));
        assertEquals("cuda", NativeLoader.parseKind(""));
    }

    @Test
    void anUnknownNameIsRefusedWithTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeLoader.parseKind("emu"));
        assertEquals("-Dculoss.native ('emu') is not one of cuda, emulated", e.getMessage());
    }
}
