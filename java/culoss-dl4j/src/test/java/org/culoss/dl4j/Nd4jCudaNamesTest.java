package org.culoss.dl4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The nd4j-cuda methods {@link Nd4jCudaArrays} calls by reflection exist, with the signatures it
 * calls them by, in nd4j-cuda's own classes (the build copies its jar of classes; its natives
 * are not needed to resolve a method). A rename in nd4j-cuda fails here, not on a user's GPU.
 */
class Nd4jCudaNamesTest {
    @Test
    void theZeroCopyPathResolvesAgainstNd4jCuda() throws Exception {
        String jar = System.getProperty("culoss.nd4jCudaClasses");
        assertNotNull(jar, "the build passes culoss.nd4jCudaClasses");
        assertTrue(Files.isRegularFile(Path.of(jar)), jar);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(jar).toUri().toURL()},
                getClass().getClassLoader())) {
            Nd4jCudaArrays.Handles h = Nd4jCudaArrays.Handles.of(loader);
            assertNotNull(h.getPointer);
            assertNotNull(h.getCublasStream);
        }
    }

    @Test
    void nd4jNativeAloneHasNoNd4jCudaPath() {
        // This JVM has nd4j-native only: the adapters must not pick the nd4j-cuda path.
        assertFalse(Nd4jCudaArrays.usable());
    }
}
