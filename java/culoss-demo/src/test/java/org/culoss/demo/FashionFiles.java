package org.culoss.demo;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes a dataset in Fashion-MNIST's four gzipped IDX files, for the tests. */
final class FashionFiles {
    private FashionFiles() {}

    static void write(Path dir, Dataset d) throws IOException {
        images(dir.resolve("train-images-idx3-ubyte.gz"), d.trainImages());
        labels(dir.resolve("train-labels-idx1-ubyte.gz"), d.trainLabels());
        images(dir.resolve("t10k-images-idx3-ubyte.gz"), d.testImages());
        labels(dir.resolve("t10k-labels-idx1-ubyte.gz"), d.testLabels());
    }

    private static DataOutputStream open(Path file) throws IOException {
        return new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(file)));
    }

    private static void images(Path file, float[] pixels) throws IOException {
        try (DataOutputStream out = open(file)) {
            out.writeInt(0x803);
            out.writeInt(pixels.length / Dataset.PIXELS);
            out.writeInt(28);
            out.writeInt(28);
            for (float p : pixels) out.write(Math.round(p * 255));
        }
    }

    private static void labels(Path file, int[] labels) throws IOException {
        try (DataOutputStream out = open(file)) {
            out.writeInt(0x801);
            out.writeInt(labels.length);
            for (int l : labels) out.write(l);
        }
    }
}
