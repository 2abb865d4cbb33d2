package org.culoss;

import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import org.culoss.testing.BackendsUnderTest;

/**
 * What the fuzz tests ({@code *FuzzTest}) share: the choices a fuzz input makes (backend, sizes,
 * values, where each tensor lives) and the property every call is held to: it either throws a
 * clear exception (an {@link IllegalArgumentException} whose message starts with the name of an
 * argument, an {@link IllegalStateException} or a {@link CulossException}) or returns what the same
 * call gives on fresh, non-aliased heap buffers on the java backend.
 *
 * <p>Host memory is capped: a tensor holds at most {@link #CAP} elements whatever size the input
 * claims; a claimed size beyond that must be refused, and is never allocated.
 */
final class FuzzKit {
    /** The most elements any tensor really gets. */
    static final int CAP = 1 << 12;
    /** The elements of the shared pools that tensors placed "in the pool" are views of. */
    static final int POOL = 1 << 10;
    /**
     * The stream handles used: 0, 1 and 2 only. The emulated library keeps a thread per handle
     * forever; on CUDA 1 and 2 are the legacy and the per-thread default streams.
     */
    static final int STREAMS = 3;

    private FuzzKit() {}

    // ---------------------------------------------------------------- choices

    /** The backends of this JVM: java on all cores, java on one and three threads, and the native one. */
    static List<Backend> backends() {
        List<Backend> out = new ArrayList<>(List.of(Culoss.java(), Culoss.java(1), Culoss.java(3)));
        Backend nat = BackendsUnderTest.nativeOrNull();
        if (nat != null) out.add(nat);
        return out;
    }

    /** The backend under test; the native one (when this JVM has one) half the time. */
    static Backend backend(FuzzedDataProvider d) {
        List<Backend> all = backends();
        int i = d.consumeInt(0, all.size() * 2 - 1);
        return i >= all.size() ? all.get(all.size() - 1) : all.get(i);
    }

    /** A backend other than {@code b}: java when b is native, else java(1) or the native one. */
    static Backend other(Backend b, FuzzedDataProvider d) {
        List<Backend> all = backends();
        all.remove(b);
        return all.get(d.consumeInt(0, all.size() - 1));
    }

    static Reduction reduction(FuzzedDataProvider d) {
        return Reduction.values()[d.consumeInt(0, Reduction.values().length - 1)];
    }

    /** A float: mostly a small multiple of 1/64, sometimes NaN, an infinity, a zero, large or tiny. */
    static float value(FuzzedDataProvider d) {
        switch (d.consumeInt(0, 15)) {
            case 0: return Float.NaN;
            case 1: return Float.POSITIVE_INFINITY;
            case 2: return Float.NEGATIVE_INFINITY;
            case 3: return -0f;
            case 4: return 1e4f;
            case 5: return -1e4f;
            case 6: return 3e38f;
            case 7: return Float.MIN_VALUE;
            default: return d.consumeInt(-512, 512) / 64f;
        }
    }

    /** A parameter: as {@link #value}, but mostly in [0, 4]. */
    static float param(FuzzedDataProvider d) {
        int k = d.consumeInt(0, 3);
        return k == 0 ? value(d) : d.consumeInt(0, 256) / 64f;
    }

    /** A size as the long overloads take it: mostly 0..12, sometimes negative or huge. */
    static long size(FuzzedDataProvider d) {
        int k = d.consumeInt(0, 24);
        switch (k) {
            case 13: return -1;
            case 14: return Long.MIN_VALUE;
            case 15: return Integer.MAX_VALUE;
            case 16: return 1L << 31;
            case 17: return 1L << 32;
            case 18: return 1L << 61;
            case 19: return 1L << 62;
            case 20: return Long.MAX_VALUE;
            case 21: return CAP + 1;
            case 22: return 1L << 40;
            default: return Math.min(k, 12);
        }
    }

    /** A size as the int overloads take it. */
    static int intSize(FuzzedDataProvider d) {
        long s = size(d);
        return s == (int) s ? (int) s : s < 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
    }

    /** rows x cols elements as a tensor really gets them: at most {@link #CAP}, 0 for a negative size. */
    static int len(long... dims) {
        long n = 1;
        for (long x : dims) {
            if (x <= 0) return 0;
            n = n > CAP || x > CAP ? CAP + 1L : n * x;
        }
        return (int) Math.min(n, CAP);
    }

    /** A label for c classes: mostly in range, sometimes the ignore index, negative or c itself. */
    static int label(FuzzedDataProvider d, long c) {
        int k = d.consumeInt(0, 9);
        switch (k) {
            case 0: return -100;
            case 1: return -1;
            case 2: return (int) Math.min(c, Integer.MAX_VALUE);
            case 3: return Integer.MIN_VALUE;
            case 4: return Integer.MAX_VALUE;
            default: return c <= 0 ? 0 : d.consumeInt(0, (int) Math.min(c - 1, 1 << 20));
        }
    }

    // ---------------------------------------------------------------- tensors

    enum Kind { FLOATS, INTS, OUT, IN_OUT }

    /** One tensor of a call: its name (as the library names it), what it is, its length. */
    record Spec(String name, Kind kind, int length) {
        boolean input() {
            return kind != Kind.OUT;
        }

        boolean output() {
            return kind == Kind.OUT || kind == Kind.IN_OUT;
        }
    }

    static Spec in(String name, int length) {
        return new Spec(name, Kind.FLOATS, length);
    }

    static Spec labels(String name, int length) {
        return new Spec(name, Kind.INTS, length);
    }

    static Spec out(String name, int length) {
        return new Spec(name, Kind.OUT, length);
    }

    static Spec inOut(String name, int length) {
        return new Spec(name, Kind.IN_OUT, length);
    }

    /** A sentinel outputs start with, so that an unwritten element shows. */
    static final float SENTINEL = 7777f;

    /**
     * The tensors of one call, placed as the fuzz input says: host buffers (heap with a position,
     * slices, direct in native or big-endian order, read-only, views of a shared pool, the very
     * buffer of another tensor, null) or backend memory (fresh, views of a shared allocation,
     * misaligned, another backend's, on another stream, closed, a view of a closed owner, null).
     * It records each input's values as they are in memory just before the call, and gives the
     * reference call its own fresh heap buffers of the same lengths.
     */
    static final class Tensors implements AutoCloseable {
        final List<Spec> specs;
        final Object[] placed;
        /** Elements from each tensor's start (remaining, or bytes / 4); -1 for null. */
        final int[] lengths;
        final float[][] floatValues;
        final int[][] intValues;
        /** A tensor that is closed, or a view of a closed owner: the call must refuse it. */
        boolean closedUsed;
        /** The workspace was closed before the call. */
        boolean closedWorkspace;
        private final List<DeviceBuffer> toClose = new ArrayList<>();
        private final List<DeviceBuffer> closeBeforeCall = new ArrayList<>();
        private final Backend backend;
        private final boolean device;
        private DeviceBuffer pool;
        private float[] heapPool;
        private ByteBuffer directPool;
        private final Set<Long> streams = new HashSet<>();

        Tensors(List<Spec> specs, Backend backend, boolean device) {
            this.specs = specs;
            this.backend = backend;
            this.device = device;
            int k = specs.size();
            placed = new Object[k];
            lengths = new int[k];
            floatValues = new float[k][];
            intValues = new int[k][];
        }

        private final Set<Integer> absent = new HashSet<>();

        /** Tensors this call does not take (null, never placed). */
        Tensors absent(int... slots) {
            for (int i : slots) absent.add(i);
            return this;
        }

        /** Places every tensor, fills the inputs, reads them back, then closes what the input says to close. */
        Tensors place(FuzzedDataProvider d, IntSupplier labelSource, Set<String> nullable) {
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                if (absent.contains(i)) {
                    lengths[i] = -1;
                    continue;
                }
                int slack = slack(d);
                int n = Math.max(0, Math.min(CAP, s.length + slack));
                if (device) placeDevice(d, i, n, nullable.contains(s.name));
                else placeHost(d, i, n, nullable.contains(s.name));
                if (placed[i] == null) {
                    lengths[i] = -1;
                    continue;
                }
                if (s.kind == Kind.INTS) {
                    int[] v = new int[lengths[i]];
                    for (int j = 0; j < v.length; j++) v[j] = labelSource.getAsInt();
                    write(i, null, v);
                } else if (s.input()) {
                    float[] v = new float[lengths[i]];
                    for (int j = 0; j < v.length; j++) v[j] = value(d);
                    write(i, v, null);
                } else {
                    float[] v = new float[lengths[i]];
                    Arrays.fill(v, SENTINEL);
                    write(i, v, null);
                }
            }
            for (int i = 0; i < specs.size(); i++) {
                if (placed[i] == null || !specs.get(i).input()) continue;
                if (specs.get(i).kind == Kind.INTS) intValues[i] = readInts(i);
                else floatValues[i] = read(i);
            }
            for (DeviceBuffer b : closeBeforeCall) b.close();
            if (Boolean.getBoolean("culoss.fuzz.debug")) System.err.println(this);
            return this;
        }

        private static int slack(FuzzedDataProvider d) {
            int k = d.consumeInt(0, 15);
            return k == 0 ? -1 : k == 1 ? 1 : k == 2 ? 3 : 0;
        }

        private void placeHost(FuzzedDataProvider d, int i, int n, boolean mayBeNull) {
            boolean ints = specs.get(i).kind == Kind.INTS;
            int off = d.consumeInt(0, 3);
            Buffer b;
            int k = d.consumeInt(0, 14);
            switch (k) {
                case 1 -> b = ints ? IntBuffer.wrap(new int[off + n + 2], off, n).slice()
                        : FloatBuffer.wrap(new float[off + n + 2], off, n).slice();
                case 2 -> b = direct(ints, n + off, ByteOrder.nativeOrder()).position(off);
                case 3 -> b = direct(ints, n + off, ByteOrder.BIG_ENDIAN).position(off);
                case 4 -> b = heap(ints, n, off);  // made read-only after the values are written
                case 5 -> b = direct(ints, n + off, ByteOrder.nativeOrder()).position(off);  // read-only likewise
                case 6 -> {
                    if (ints) {
                        b = heap(true, n, off);
                    } else {
                        if (heapPool == null) heapPool = new float[POOL];
                        int at = Math.min(d.consumeInt(0, POOL), POOL);
                        b = FloatBuffer.wrap(heapPool, at, Math.min(n, POOL - at)).slice();
                    }
                }
                case 7 -> {
                    if (directPool == null) directPool = ByteBuffer.allocateDirect(POOL * 4).order(ByteOrder.nativeOrder());
                    int at = Math.min(d.consumeInt(0, POOL), POOL);
                    ByteBuffer bb = directPool.duplicate().order(ByteOrder.nativeOrder()).position(at * 4)
                            .limit(Math.min(POOL, at + n) * 4);
                    b = ints ? bb.slice().order(ByteOrder.nativeOrder()).asIntBuffer()
                            : bb.slice().order(ByteOrder.nativeOrder()).asFloatBuffer();
                }
                case 8 -> {
                    int j = i == 0 ? -1 : d.consumeInt(0, i - 1);
                    Object o = j < 0 ? null : placed[j];
                    b = ints && o instanceof IntBuffer ib ? ib.duplicate()
                            : !ints && o instanceof FloatBuffer fb ? fb.duplicate() : heap(ints, n, off);
                }
                case 9 -> b = mayBeNull || d.consumeBoolean() ? null : heap(ints, n, off);
                default -> b = heap(ints, n, off);
            }
            placed[i] = b;
            lengths[i] = b == null ? -1 : b.remaining();
            if (b != null && (k == 4 || k == 5)) readOnlyAfterWrite.add(i);
        }

        private final Set<Integer> readOnlyAfterWrite = new HashSet<>();

        private static Buffer heap(boolean ints, int n, int off) {
            return ints ? IntBuffer.wrap(new int[off + n]).position(off) : FloatBuffer.wrap(new float[off + n]).position(off);
        }

        private static Buffer direct(boolean ints, int n, ByteOrder order) {
            ByteBuffer bb = ByteBuffer.allocateDirect(Math.max(1, n) * 4).order(order);
            Buffer b = ints ? bb.asIntBuffer() : bb.asFloatBuffer();
            return b.limit(n);
        }

        private void placeDevice(FuzzedDataProvider d, int i, int n, boolean mayBeNull) {
            boolean ints = specs.get(i).kind == Kind.INTS;
            long stream = d.consumeInt(0, STREAMS - 1);
            DeviceBuffer b;
            int k = d.consumeInt(0, 14);
            switch (k) {
                case 1, 2 -> {
                    if (pool == null) pool = track(backend.allocateFloats(POOL));
                    int at = Math.min(d.consumeInt(0, POOL), POOL);
                    long bytes = Math.max(0, Math.min((long) n, POOL - at)) * 4;
                    long skew = k == 2 && bytes >= 4 ? 2 : 0;  // 2 bytes off: no longer float-aligned
                    b = track(DeviceBuffer.wrap(backend, pool.address() + at * 4L + skew, bytes - (skew > 0 ? 4 : 0),
                            stream));
                }
                case 3 -> b = track(alloc(other(backend, d), ints, n));
                case 4 -> b = track(track(alloc(backend, ints, n)).onStream(stream));
                case 5 -> {
                    b = track(alloc(backend, ints, n));
                    closeBeforeCall.add(b);
                    closedUsed = true;
                }
                case 6 -> {
                    DeviceBuffer owner = track(alloc(backend, ints, n));
                    b = track(owner.onStream(stream));
                    closeBeforeCall.add(owner);
                    closedUsed = true;
                }
                case 7 -> {
                    DeviceBuffer owner = track(alloc(backend, ints, n));
                    b = owner.onStream(stream);
                    closeBeforeCall.add(b);  // the view closed, its owner open
                    closedUsed = true;
                }
                case 8 -> {
                    int j = i == 0 ? -1 : d.consumeInt(0, i - 1);
                    Object o = j < 0 ? null : placed[j];
                    b = o instanceof DeviceBuffer db && !db.isClosed() ? db : track(alloc(backend, ints, n));
                }
                case 9 -> b = mayBeNull || d.consumeBoolean() ? null : track(alloc(backend, ints, n));
                default -> b = track(alloc(backend, ints, n));
            }
            placed[i] = b;
            if (b != null) {
                lengths[i] = (int) (b.bytes() / 4);
                streams.add(b.stream());
            }
        }

        private static DeviceBuffer alloc(Backend b, boolean ints, int n) {
            return ints ? b.allocateInts(n) : b.allocateFloats(n);
        }

        private DeviceBuffer track(DeviceBuffer b) {
            toClose.add(b);
            return b;
        }

        private void write(int i, float[] f, int[] v) {
            Object o = placed[i];
            if (o instanceof DeviceBuffer b) {
                if (f != null) b.copyFrom(f);
                else b.copyFrom(v);
            } else if (o instanceof FloatBuffer b) {
                if (b.isReadOnly()) return;  // the same buffer as a read-only one before: its values stay
                b.duplicate().put(f);
                if (readOnlyAfterWrite.contains(i)) placed[i] = b.asReadOnlyBuffer();
            } else if (o instanceof IntBuffer b) {
                if (b.isReadOnly()) return;
                b.duplicate().put(v);
                if (readOnlyAfterWrite.contains(i)) placed[i] = b.asReadOnlyBuffer();
            }
        }

        /** The floats of tensor i, from its start, as they are now. */
        float[] read(int i) {
            Object o = placed[i];
            float[] v = new float[lengths[i]];
            if (o instanceof DeviceBuffer b) b.copyTo(v);
            else ((FloatBuffer) o).duplicate().get(v);
            return v;
        }

        int[] readInts(int i) {
            Object o = placed[i];
            int[] v = new int[lengths[i]];
            if (o instanceof DeviceBuffer b) b.copyTo(v);
            else ((IntBuffer) o).duplicate().get(v);
            return v;
        }

        /** Waits for every stream a tensor is on (a call runs on its first tensor's stream). */
        void synchronize() {
            for (long s : streams) backend.synchronize(s);
            backend.synchronize(0);
        }

        FloatBuffer f(int i) {
            return (FloatBuffer) placed[i];
        }

        IntBuffer ints(int i) {
            return (IntBuffer) placed[i];
        }

        DeviceBuffer dev(int i) {
            return (DeviceBuffer) placed[i];
        }

        /** The reference's tensors: fresh heap buffers of the same lengths, the inputs' values copied. */
        Object[] reference() {
            Object[] r = new Object[specs.size()];
            for (int i = 0; i < r.length; i++) {
                if (lengths[i] < 0) continue;
                Spec s = specs.get(i);
                if (s.kind == Kind.INTS) r[i] = IntBuffer.wrap(intValues[i].clone());
                else if (s.input()) r[i] = FloatBuffer.wrap(floatValues[i].clone());
                else {
                    float[] v = new float[lengths[i]];
                    Arrays.fill(v, SENTINEL);
                    r[i] = FloatBuffer.wrap(v);
                }
            }
            return r;
        }

        /** After a call that returned: the outputs as they are (none for a tensor that is null). */
        float[][] outputs() {
            float[][] out = new float[specs.size()][];
            for (int i = 0; i < out.length; i++) {
                if (placed[i] != null && specs.get(i).output()) out[i] = read(i);
            }
            return out;
        }

        /** Where each tensor is and what it holds: for reading a finding (-Dculoss.fuzz.debug=true). */
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < specs.size(); i++) {
                Object o = placed[i];
                s.append(specs.get(i).name).append(": ");
                if (o instanceof Buffer b) {
                    s.append(b.getClass().getSimpleName()).append(" pos ").append(b.position()).append(" rem ")
                            .append(b.remaining()).append(b.isDirect() ? " @" + Long.toHexString(OffHeap.address(b.slice()))
                            : b.hasArray() ? " array#" + System.identityHashCode(b.array()) + "+" + b.arrayOffset()
                            : " (no array)");
                } else if (o instanceof DeviceBuffer b) {
                    s.append(b).append(b.isClosed() ? " closed" : " @" + Long.toHexString(b.address()))
                            .append(" stream ").append(b.stream());
                } else {
                    s.append("null");
                }
                if (floatValues[i] != null) s.append(" = ").append(Arrays.toString(floatValues[i]));
                if (intValues[i] != null) s.append(" = ").append(Arrays.toString(intValues[i]));
                s.append('\n');
            }
            return s.toString();
        }

        @Override
        public void close() {
            for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).close();
        }
    }

    /** The outputs of reference buffers after the call. */
    static float[][] outputs(List<Spec> specs, Object[] ref) {
        float[][] out = new float[specs.size()][];
        for (int i = 0; i < out.length; i++) {
            if (ref[i] != null && specs.get(i).output()) out[i] = ((FloatBuffer) ref[i]).array();
        }
        return out;
    }

    /**
     * The workspace of a device call: mostly the loss's own ({@code proper}), sometimes none, one
     * byte short, closed, or another backend's. {@code small}: the sizes are within {@link #CAP}
     * (a workspace for a claimed huge size is never allocated: null instead).
     */
    static DeviceBuffer workspace(FuzzedDataProvider d, Backend b, boolean small,
            java.util.function.Supplier<DeviceBuffer> proper, Tensors t, Set<String> names) {
        int k = d.consumeInt(0, 9);
        if (!small || k == 6) return null;
        DeviceBuffer w;
        try {
            w = proper.get();
        } catch (RuntimeException e) {
            requireClear(e, names);
            return null;
        }
        t.toClose.add(w);
        switch (k) {
            case 7 -> {
                if (w.bytes() == 0) return w;
                DeviceBuffer s = DeviceBuffer.wrap(b, w.address(), w.bytes() - 1, 0);
                t.toClose.add(s);
                return s;
            }
            case 8 -> {
                w.close();
                t.closedWorkspace = true;
                return w;
            }
            case 9 -> {
                DeviceBuffer o = other(b, d).allocateFloats((w.bytes() + 3) / 4);
                o.copyFrom(new float[(int) Math.min(4, o.bytes() / 4)]);  // a clear error word
                t.toClose.add(o);
                return o;
            }
            default -> {
                return w;
            }
        }
    }

    // ---------------------------------------------------------------- outcomes

    /** What a call did: threw, or wrote these outputs (by tensor index; null where none). */
    record Outcome(Throwable error, float[][] outputs) {
        static Outcome of(Runnable call, java.util.function.Supplier<float[][]> outputs) {
            try {
                call.run();
            } catch (RuntimeException | Error e) {
                if (e instanceof AssertionError) throw e;
                // a bad label is reported after the outputs are written: keep them
                return new Outcome(e, e instanceof CulossException ? outputs.get() : null);
            }
            return new Outcome(null, outputs.get());
        }

        boolean badLabel() {
            return error instanceof CulossException c && c.status() == Status.INVALID_TARGET;
        }
    }

    /** Runs {@code call}; an exception must be clear (see {@link #requireClear}). Returns whether it returned. */
    static boolean clearOrReturns(Runnable call, Set<String> names) {
        try {
            call.run();
            return true;
        } catch (AssertionError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            requireClear(e, names);
            return false;
        }
    }

    /**
     * A clear exception: an IllegalArgumentException whose message starts with the name of an
     * argument ({@code names}), an IllegalStateException or a CulossException with a message.
     * Anything else (NullPointerException, IndexOutOfBoundsException, BufferOverflowException,
     * ReadOnlyBufferException, ArithmeticException, OutOfMemoryError ...) fails.
     */
    static void requireClear(Throwable e, Set<String> names) {
        String m = e.getMessage();
        if (e instanceof IllegalArgumentException) {
            if (m == null) fail("an IllegalArgumentException without a message", e);
            String first = m.split("[^A-Za-z0-9_]", 2)[0];
            if (!names.contains(first)) fail("'" + m + "' does not start with an argument's name " + names, e);
            if (m.contains("memory of backend")) {
                java.util.regex.Matcher x = java.util.regex.Pattern
                        .compile("memory of backend (\\S+), this loss runs on (\\S+)").matcher(m);
                if (x.find() && x.group(1).equals(x.group(2))) fail("'" + m + "' names the same backend twice", e);
            }
            return;
        }
        if (e instanceof IllegalStateException || e instanceof CulossException) {
            if (m == null || m.isBlank()) fail(e.getClass().getSimpleName() + " without a message", e);
            return;
        }
        fail("not a clear exception: " + e, e);
    }

    /**
     * The property: the tested call either threw a clear exception, or returned and agrees with
     * the reference (same outputs within float tolerance; a bad label reported by both, with the
     * same outputs written). {@code mustRefuse}: the call used something closed and must throw.
     */
    static void agree(Outcome tested, Outcome ref, List<Spec> specs, Set<String> names, boolean mustRefuse,
            String what) {
        if (tested.error != null) {
            requireClear(tested.error, names);
            if (tested.badLabel()) {
                if (!ref.badLabel()) fail(what + ": a bad label reported, the reference " + describe(ref), tested.error);
                compare(tested.outputs, ref.outputs, specs, what + " (after a bad label)");
            }
            return;
        }
        if (mustRefuse) fail(what + ": a closed buffer or loss was used and the call returned");
        if (ref.error != null) {
            if (ref.error instanceof AssertionError ae) throw ae;
            // The java backend indexes int32: it refuses what a native backend may do (a row of
            // 2^31 - 1 classes, none of them there).
            if (ref.error instanceof IllegalArgumentException && String.valueOf(ref.error.getMessage())
                    .contains("more than the java backend handles")) {
                return;
            }
            fail(what + ": returned, where the reference on heap arrays threw " + ref.error, ref.error);
        }
        compare(tested.outputs, ref.outputs, specs, what);
    }

    private static String describe(Outcome o) {
        return o.error == null ? "returned" : "threw " + o.error;
    }

    static void compare(float[][] got, float[][] want, List<Spec> specs, String what) {
        if (got == null || want == null) return;
        for (int i = 0; i < specs.size(); i++) {
            if (!specs.get(i).output() || got[i] == null || want[i] == null) continue;
            int n = Math.min(Math.min(got[i].length, want[i].length), specs.get(i).length);
            for (int j = 0; j < n; j++) {
                if (!close(want[i][j], got[i][j])) {
                    fail(what + ": " + specs.get(i).name + "[" + j + "] = " + got[i][j] + ", the reference gives "
                            + want[i][j]);
                }
            }
        }
    }

    /** Equal NaN-ness, equal infinities, else within float rounding of sums and transcendental functions. */
    static boolean close(float want, float got) {
        if (Float.isNaN(want) || Float.isNaN(got)) return Float.isNaN(want) && Float.isNaN(got);
        if (Float.isInfinite(want) || Float.isInfinite(got)) {
            return want == got || Math.abs((double) want - got) <= 1e-3 * Math.max(Math.abs(want), Math.abs(got))
                    && Math.abs(Math.min(Math.abs(want), Math.abs(got))) > 1e37;
        }
        double tol = 2e-3 * Math.max(1, Math.max(Math.abs(want), Math.abs(got)));
        return Math.abs((double) want - got) <= tol;
    }

    static Set<String> names(String... names) {
        return new HashSet<>(Arrays.asList(names));
    }
}
