package org.culoss.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.culoss.Culoss;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;

/**
 * The nd4j-cuda path ({@link Nd4jCudaArrays}: device pointers from nd4j's allocator, nd4j's
 * stream, outputs registered as written) with the allocator, flow controller, context and stream
 * replaced by {@link StandInNd4jCuda} over nd4j-native memory: every loss test and training test
 * again, each call checked against the protocol nd4j-cuda needs. What only a GPU with nd4j-cuda
 * shows (its pointers, its stream, its host/device bookkeeping) this cannot: see the README.
 */
class StandInNd4jCudaTest {
    @BeforeAll
    static void standIn() {
        StandInNd4jCuda.backend = Culoss.backend(System.getProperty(CulossLossFunction.DEFAULT_BACKEND_PROPERTY, "java"));
        Nd4jCudaArrays.Handles handles = StandInNd4jCuda.handles();
        DeviceArrays.substitute = backend -> new Nd4jCudaArrays(backend, handles);
    }

    @AfterAll
    static void restore() {
        assertTrue(StandInNd4jCuda.pointers > 100, "device pointers asked for: " + StandInNd4jCuda.pointers);
        DeviceArrays.substitute = null;
        StandInNd4jCuda.backend = null;
    }

    @BeforeEach
    void reset() {
        StandInNd4jCuda.reset();
    }

    @AfterEach
    void protocolKept() {
        assertEquals(List.of(), StandInNd4jCuda.violations);
        assertEquals(List.of(), StandInNd4jCuda.unregistered(), "outputs not registered as written");
    }

    @Nested
    class Losses extends MatchesDl4jLossesTest {}

    @Nested
    class Formulas extends FormulaLossesTest {}

    @Nested
    class Training extends TrainingTest {}
}
