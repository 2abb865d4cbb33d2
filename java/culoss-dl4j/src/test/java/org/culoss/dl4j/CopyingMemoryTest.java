package org.culoss.dl4j;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The adapters and layers as they run where nd4j's arrays are not host memory that culoss may
 * use in place (nd4j-cuda): inputs read through nd4j's host copies, outputs made by nd4j from the
 * heap. Every test of the in-place path, again, on nd4j-native with that path forced.
 */
class CopyingMemoryTest {
    private static boolean before;

    @BeforeAll
    static void copy() {
        before = NdArrays.inPlace;
        NdArrays.inPlace = false;
    }

    @AfterAll
    static void restore() {
        NdArrays.inPlace = before;
    }

    @Nested
    class Losses extends MatchesDl4jLossesTest {}

    @Nested
    class Formulas extends FormulaLossesTest {}

    @Nested
    class Training extends TrainingTest {}
}
