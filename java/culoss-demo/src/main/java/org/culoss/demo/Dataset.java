package org.culoss.demo;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * The demo's data: Fashion-MNIST read from its four IDX files (gzipped or not), or a small
 * built-in task when they are not there. Images are 28 x 28, scaled to [0, 1]; ten classes.
 */
record Dataset(String description, float[] trainImages, int[] trainLabels, float[] testImages, int[] testLabels) {
    static final int PIXELS = 28 * 28;
    static final int CLASSES = 10;
    static final String[] FASHION_CLASSES = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot"};
    /** Where Debian's dataset-fashion-mnist package puts the files. */
    static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    int trainSize() {
        return trainLabels.length;
    }

    int testSize() {
        return testLabels.length;
    }

    /** Whether {@code dir} holds the four Fashion-MNIST files (gzipped or not). */
    static boolean present(Path dir) {
        for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"})
            if (find(dir, name) == null) return false;
        return true;
    }

    /** Fashion-MNIST from {@code dir}; a missing, bad or truncated file is an IOException naming it. */
    static Dataset fashionMnist(Path dir) throws IOException {
        float[] trainImages = images(require(dir, "train-images-idx3-ubyte"));
        int[] trainLabels = labels(require(dir, "train-labels-idx1-ubyte"), trainImages.length / PIXELS);
        float[] testImages = images(require(dir, "t10k-images-idx3-ubyte"));
        int[] testLabels = labels(require(dir, "t10k-labels-idx1-ubyte"), testImages.length / PIXELS);
        return new Dataset("Fashion-MNIST from " + dir + " (" + trainLabels.length + " training, " + testLabels.length
                + " test images)", trainImages, trainLabels, testImages, testLabels);
    }

    private static Path find(Path dir, String name) {
        for (String file : new String[] {name + ".gz", name}) {
            Path p = dir.resolve(file);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static Path require(Path dir, String name) throws IOException {
        Path p = find(dir, name);
        if (p == null) throw new IOException(dir.resolve(name + ".gz") + ": no such file (nor " + name + ")");
        return p;
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = Files.newInputStream(file);
        return file.toString().endsWith(".gz") ? new GZIPInputStream(in, 1 << 16) : in;
    }

    static float[] images(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(open(file))) {
            int magic = in.readInt();
            if (magic != 0x803) throw new IOException(file + ": not an IDX image file (magic " + Integer.toHexString(magic) + ")");
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (count < 0 || rows != 28 || cols != 28)
                throw new IOException(file + ": " + count + " images of " + rows + " x " + cols + ", not 28 x 28");
            byte[] raw = new byte[Math.multiplyExact(count, PIXELS)];
            readFully(in, raw, file);
            float[] out = new float[raw.length];
            for (int i = 0; i < raw.length; i++) out[i] = (raw[i] & 0xff) / 255f;
            return out;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated (the header ends early)", e);
        } catch (java.util.zip.ZipException e) {
            throw new IOException(file + ": not a valid gzip file: " + e.getMessage(), e);
        }
    }

    static int[] labels(Path file, int expected) throws IOException {
        try (DataInputStream in = new DataInputStream(open(file))) {
            int magic = in.readInt();
            if (magic != 0x801) throw new IOException(file + ": not an IDX label file (magic " + Integer.toHexString(magic) + ")");
            int count = in.readInt();
            if (count != expected)
                throw new IOException(file + ": " + count + " labels for " + expected + " images");
            byte[] raw = new byte[count];
            readFully(in, raw, file);
            int[] out = new int[count];
            for (int i = 0; i < count; i++) {
                out[i] = raw[i] & 0xff;
                if (out[i] >= CLASSES) throw new IOException(file + ": label " + i + " is " + out[i] + ", not a class in [0, 10)");
            }
            return out;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated (the header ends early)", e);
        } catch (java.util.zip.ZipException e) {
            throw new IOException(file + ": not a valid gzip file: " + e.getMessage(), e);
        }
    }

    private static void readFully(DataInputStream in, byte[] into, Path file) throws IOException {
        int done = 0;
        while (done < into.length) {
            int r;
            try {
                r = in.read(into, done, into.length - done);
            } catch (EOFException e) {
                r = -1;
            }
            if (r < 0) throw new IOException(file + ": truncated: " + into.length + " bytes of data expected, " + done + " found");
            done += r;
        }
    }

    /**
     * The built-in task: ten classes, each a random smooth 28 x 28 pattern, seen through heavy
     * noise and a random shift. It only shows the demo working; its accuracy says nothing about
     * Fashion-MNIST.
     */
    static Dataset builtIn(int train, int test, long seed) {
        Random r = new Random(seed);
        float[][] prototypes = new float[CLASSES][PIXELS];
        for (float[] p : prototypes) {
            double a = r.nextDouble() * 6, b = r.nextDouble() * 6, ph = r.nextDouble() * 6;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                    p[y * 28 + x] = (float) (0.5 + 0.5 * Math.sin(a * x / 28.0 * Math.PI + b * y / 28.0 * Math.PI + ph));
        }
        float[][] images = new float[2][];
        int[][] labels = new int[2][];
        int[] sizes = {train, test};
        for (int s = 0; s < 2; s++) {
            images[s] = new float[sizes[s] * PIXELS];
            labels[s] = new int[sizes[s]];
            for (int i = 0; i < sizes[s]; i++) {
                int k = r.nextInt(CLASSES);
                labels[s][i] = k;
                int dx = r.nextInt(5) - 2, dy = r.nextInt(5) - 2;
                for (int y = 0; y < 28; y++)
                    for (int x = 0; x < 28; x++) {
                        float v = prototypes[k][Math.floorMod(y + dy, 28) * 28 + Math.floorMod(x + dx, 28)];
                        images[s][i * PIXELS + y * 28 + x] = Math.min(1f, Math.max(0f, v + (float) r.nextGaussian() * 0.6f));
                    }
            }
        }
        return new Dataset("the built-in task (" + train + " training, " + test + " test images: ten random patterns under"
                + " noise; not Fashion-MNIST)", images[0], labels[0], images[1], labels[1]);
    }
}
