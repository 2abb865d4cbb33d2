package org.culoss.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader: values, both spellings (gzipped or not), and errors that name the bad file. */
class DatasetTest {
    static byte[] images(int count, int rows, int cols, int magic) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < count * rows * cols; i++) out.write(i % 256);
        return b.toByteArray();
    }

    static byte[] labels(int count, int bad) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeInt(0x801);
        out.writeInt(count);
        for (int i = 0; i < count; i++) out.write(i == bad ? 10 : i % 10);
        return b.toByteArray();
    }

    static void write(Path file, byte[] data, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(data);
        }
    }

    static void fourFiles(Path dir, boolean gzip) throws IOException {
        String gz = gzip ? ".gz" : "";
        write(dir.resolve("train-images-idx3-ubyte" + gz), images(5, 28, 28, 0x803), gzip);
        write(dir.resolve("train-labels-idx1-ubyte" + gz), labels(5, -1), gzip);
        write(dir.resolve("t10k-images-idx3-ubyte" + gz), images(3, 28, 28, 0x803), gzip);
        write(dir.resolve("t10k-labels-idx1-ubyte" + gz), labels(3, -1), gzip);
    }

    @Test
    void readsBothSpellings(@TempDir Path dir) throws IOException {
        for (boolean gzip : new boolean[] {true, false}) {
            Path d = Files.createDirectories(dir.resolve("gz" + gzip));
            assertFalse(Dataset.present(d));
            fourFiles(d, gzip);
            assertTrue(Dataset.present(d));
            Dataset data = Dataset.fashionMnist(d);
            assertEquals(5, data.trainSize());
            assertEquals(3, data.testSize());
            assertArrayEquals(new int[] {0, 1, 2}, data.testLabels());
            assertEquals(7 / 255f, data.trainImages()[7]);
            assertEquals((784 + 300) % 256 / 255f, data.trainImages()[784 + 300]);
        }
    }

    @Test
    void badFilesAreNamed(@TempDir Path dir) throws IOException {
        fourFiles(dir, true);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] whole = images(5, 28, 28, 0x803);
        write(images, java.util.Arrays.copyOf(whole, whole.length - 100), true);
        IOException e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().startsWith(images.toString()) && e.getMessage().contains("truncated"), e.getMessage());

        write(images, java.util.Arrays.copyOf(whole, 10), true);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        write(images, images(5, 28, 28, 0x801), true);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().contains("not an IDX image file"), e.getMessage());

        write(images, images(5, 32, 32, 0x803), true);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().contains("not 28 x 28"), e.getMessage());

        Files.write(images, whole);  // not gzipped under a .gz name
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().startsWith(images.toString()) && e.getMessage().contains("gzip"), e.getMessage());

        write(images, whole, true);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        write(labels, labels(3, 1), true);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().startsWith(labels.toString()) && e.getMessage().contains("label 1 is 10"), e.getMessage());

        write(labels, labels(4, -1), true);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().contains("4 labels for 3 images"), e.getMessage());

        Files.delete(labels);
        e = assertThrows(IOException.class, () -> Dataset.fashionMnist(dir));
        assertTrue(e.getMessage().contains("t10k-labels-idx1-ubyte.gz: no such file"), e.getMessage());
    }
}
