package org.culoss;

import static org.culoss.FuzzKit.names;
import static org.culoss.FuzzKit.requireClear;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * DeviceBuffer on its own: {@code allocateFloats} / {@code allocateInts} of any count (negative,
 * 0, 2^61, 2^62, Long.MAX_VALUE must be refused; only counts up to {@link FuzzKit#CAP} are really
 * allocated), {@code wrap} (null address, negative bytes, views inside another buffer),
 * {@code onStream} views and views of views, {@code copyFrom} / {@code copyTo} of arrays longer
 * or shorter than the buffer, {@code address()}, and closing buffers, views and owners in any
 * order between the uses. A model of what each buffer holds checks every read; a use of a closed
 * buffer, or of a view whose owner is closed, must throw IllegalStateException.
 */
class DeviceBufferFuzzTest {
    static final Set<String> NAMES = names("count", "bytes", "backend", "address", "src", "dst");

    /** A buffer and the model of its floats; {@code owner}: the buffer it is a view of, or null. */
    private static final class Model {
        final DeviceBuffer buffer;
        final float[] floats;  // shared with the owner's model for an onStream view
        final Model owner;
        final boolean ints;
        boolean closed;

        Model(DeviceBuffer buffer, float[] floats, Model owner, boolean ints) {
            this.buffer = buffer;
            this.floats = floats;
            this.owner = owner;
            this.ints = ints;
        }

        boolean dead() {
            return closed || owner != null && owner.dead();
        }
    }

    @FuzzTest(maxDuration = "20s")
    void buffers(FuzzedDataProvider d) {
        Backend backend = FuzzKit.backend(d);
        List<Model> live = new ArrayList<>();
        List<DeviceBuffer> all = new ArrayList<>();
        try {
            int steps = d.consumeInt(1, 12);
            for (int s = 0; s < steps && d.remainingBytes() > 0; s++) {
                step(d, backend, live, all);
            }
        } finally {
            for (int i = all.size() - 1; i >= 0; i--) all.get(i).close();
        }
    }

    private static void step(FuzzedDataProvider d, Backend backend, List<Model> live, List<DeviceBuffer> all) {
        int op = d.consumeInt(0, 8);
        Model m = live.isEmpty() ? null : live.get(d.consumeInt(0, live.size() - 1));
        switch (op) {
            case 0, 1 -> {  // allocate
                boolean ints = op == 1;
                long count = FuzzKit.size(d);
                if (count > FuzzKit.CAP && count <= Long.MAX_VALUE / 4) return;  // never allocate gigabytes
                try {
                    DeviceBuffer b = ints ? backend.allocateInts(count) : backend.allocateFloats(count);
                    all.add(b);
                    if (count < 0) fail("allocate" + (ints ? "Ints" : "Floats") + "(" + count + ") returned");
                    if (b.bytes() != count * 4) fail("allocated " + b.bytes() + " bytes for " + count);
                    float[] zeros = new float[(int) count];
                    b.copyFrom(zeros);  // the contents start undefined: give them a value
                    live.add(new Model(b, zeros, null, ints));
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    requireClear(e, NAMES);
                    if (count >= 0 && count <= FuzzKit.CAP) fail("allocating " + count + " was refused", e);
                }
            }
            case 2 -> {  // wrap: a view inside m, or a bad address / length
                int k = d.consumeInt(0, 3);
                long bytes = k == 0 ? -1 - d.consumeInt(0, 5) : d.consumeInt(0, 64);
                try {
                    DeviceBuffer w;
                    if (k == 1 || m == null) {
                        w = DeviceBuffer.wrap(backend, 0, bytes, 0);
                        all.add(w);
                        if (bytes > 0 || bytes < 0) fail("wrap(null, " + bytes + ") returned");
                        return;
                    }
                    if (k == 2) {
                        w = DeviceBuffer.wrap(null, 16, bytes, 0);
                        all.add(w);
                        fail("wrap(null backend) returned");
                    }
                    if (m.dead()) {
                        try {
                            m.buffer.address();
                            fail("address() of a closed buffer returned");
                        } catch (IllegalStateException expected) {
                            return;
                        }
                    }
                    if (bytes < 0) {
                        w = DeviceBuffer.wrap(backend, m.buffer.address(), bytes, 0);
                        all.add(w);
                        fail("wrap of " + bytes + " bytes returned");
                    }
                    // a window of whole floats inside m, on a stream; it shares m's memory
                    int floats = m.floats.length;
                    int at = floats == 0 ? 0 : d.consumeInt(0, floats);
                    int len = d.consumeInt(0, floats - at);
                    w = DeviceBuffer.wrap(m.buffer.backend(), m.buffer.address() + 4L * at, 4L * len,
                            d.consumeInt(0, FuzzKit.STREAMS - 1));
                    all.add(w);
                    // wrapped memory is not owned: it lives no longer than m, as the caller promises
                    float[] window = new float[len];
                    System.arraycopy(m.floats, at, window, 0, len);
                    read(w, window, m.ints);
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    requireClear(e, NAMES);
                }
            }
            case 3 -> {  // onStream view (of a view, too)
                if (m == null) return;
                try {
                    DeviceBuffer v = m.buffer.onStream(d.consumeInt(0, FuzzKit.STREAMS - 1));
                    all.add(v);
                    if (m.dead()) fail("onStream of a closed buffer returned");
                    live.add(new Model(v, m.floats, m.owner != null ? m.owner : m, m.ints));
                } catch (IllegalStateException e) {
                    if (!m.dead()) fail("onStream of an open buffer refused", e);
                }
            }
            case 4 -> {  // copyFrom
                if (m == null) return;
                int len = Math.max(0, Math.min(FuzzKit.CAP + 1, m.floats.length + d.consumeInt(-2, 2)));
                float[] v = new float[len];
                int[] iv = new int[len];
                for (int i = 0; i < len; i++) {
                    iv[i] = d.consumeInt(-1000, 1000);
                    v[i] = m.ints ? Float.intBitsToFloat(iv[i]) : FuzzKit.value(d);
                }
                try {
                    if (m.ints) m.buffer.copyFrom(iv);
                    else m.buffer.copyFrom(v);
                    if (m.dead()) fail("copyFrom on a closed buffer returned");
                    if (len > m.floats.length) fail("copyFrom of " + len + " into " + m.floats.length + " returned");
                    System.arraycopy(v, 0, m.floats, 0, len);
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    requireClear(e, NAMES);
                    if (!m.dead() && len <= m.floats.length) fail("copyFrom refused", e);
                    if (m.dead() && len <= m.floats.length && !(e instanceof IllegalStateException)) {
                        fail("not an IllegalStateException", e);
                    }
                }
            }
            case 5 -> {  // copyTo
                if (m == null) return;
                int len = Math.max(0, Math.min(FuzzKit.CAP + 1, m.floats.length + d.consumeInt(-2, 2)));
                try {
                    float[] want = new float[len];
                    System.arraycopy(m.floats, 0, want, 0, Math.min(len, m.floats.length));
                    read(m.buffer, want, m.ints);
                    if (m.dead()) fail("copyTo on a closed buffer returned");
                    if (len > m.floats.length) fail("copyTo of " + len + " from " + m.floats.length + " returned");
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    requireClear(e, NAMES);
                    if (!m.dead() && len <= m.floats.length) fail("copyTo refused", e);
                }
            }
            case 6 -> {  // close
                if (m == null) return;
                m.buffer.close();
                m.closed = true;
                if (d.consumeBoolean()) m.buffer.close();  // twice: nothing happens
            }
            case 7 -> {  // address
                if (m == null) return;
                try {
                    long a = m.buffer.address();
                    if (m.dead()) fail("address() of a closed buffer returned");
                    if (a == 0 && m.buffer.bytes() > 0) fail("address 0");
                } catch (IllegalStateException e) {
                    if (!m.dead()) fail("address() refused", e);
                }
            }
            default -> {  // a loss on it: a Mse forward on m as input and target, loss into another buffer
                if (m == null) return;
                try (Mse mse = Mse.builder().backend(backend).reduction(Reduction.NONE).build();
                        DeviceBuffer out = backend.allocateFloats(Math.max(1, m.floats.length))) {
                    int n = m.floats.length;
                    mse.forward(m.buffer, m.buffer, n, out, null);
                    backend.synchronize(m.buffer.stream());
                    if (m.dead()) fail("a loss on a closed buffer returned");
                    float[] got = new float[n];
                    out.copyTo(got);
                    for (int i = 0; i < n; i++) {
                        if (!m.ints && Float.isFinite(m.floats[i]) && got[i] != 0f) {
                            fail("mse(x, x)[" + i + "] = " + got[i] + " for x = " + m.floats[i]);
                        }
                    }
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    requireClear(e, Set.of("input", "target", "loss", "count"));
                    if (!m.dead()) fail("a loss on an open buffer refused", e);
                }
            }
        }
    }

    private static void read(DeviceBuffer b, float[] want, boolean ints) {
        if (ints) {
            int[] got = new int[want.length];
            b.copyTo(got);
            int[] w = new int[want.length];
            for (int i = 0; i < w.length; i++) w[i] = Float.floatToRawIntBits(want[i]);
            assertArrayEquals(w, got, "the int buffer's contents");
        } else {
            float[] got = new float[want.length];
            b.copyTo(got);
            for (int i = 0; i < want.length; i++) {
                if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])
                        && !(Float.isNaN(got[i]) && Float.isNaN(want[i]))) {
                    fail("the buffer's float " + i + " is " + got[i] + ", " + want[i] + " was written");
                }
            }
        }
    }
}
