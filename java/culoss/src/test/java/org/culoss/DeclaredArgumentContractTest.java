package org.culoss;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.culoss.testing.BackendsUnderTest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * The argument contract of every tensor of every declared operation, on every backend under test,
 * through the one generic path the loss classes call: a required tensor that is null, a tensor
 * one element too short, an output that is read-only, backend memory of another backend, and
 * every overlap of an output with another tensor (refused unless the declaration allows that exact
 * alias, which must then run). Each refusal is an {@link IllegalArgumentException} whose message
 * names the tensor. Read from the declarations: a new loss is covered with nothing added here.
 */
class DeclaredArgumentContractTest {
    private static final Map<String, Integer> SIZES = Map.of("n", 3, "c", 4, "d", 2, "count", 7, "inner", 5, "classes", 1);

    @TestFactory
    Stream<DynamicTest> everyTensorOfEveryOperation() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend backend : BackendsUnderTest.all()) {
            for (LossDeclaration<?> d : Declarations.all()) {
                List<Op<?>> ops = new ArrayList<>();
                ops.addAll(d.forms());
                ops.addAll(d.inPlaceOps);
                for (Op<?> op : ops) {
                    tests.add(DynamicTest.dynamicTest(op.name + " host, " + backend, () -> host(d, op, backend)));
                    tests.add(DynamicTest.dynamicTest(op.name + " device, " + backend, () -> device(d, op, backend)));
                }
            }
        }
        return tests.stream();
    }

    // ---------------------------------------------------------------- host buffers

    private static void host(LossDeclaration<?> d, Op<?> op, Backend backend) {
        try (LossFunction loss = Declarations.build(d, backend, Map.of("reduction", "none"), Map.of())) {
            Invoker.host(op, loss, hostCall(op, o -> {}));  // the valid call runs
            for (Operand o : tensors(op)) {
                if (!o.optional) {
                    refused(o.name, () -> Invoker.host(op, loss, hostCall(op, c -> c.host[o.slot] = null)));
                }
                refused(o.name, () -> Invoker.host(op, loss, hostCall(op, c -> c.host[o.slot] =
                        buffer(o, extent(op, o) - 1))));
                if (o.role.written()) {
                    refused(o.name, () -> Invoker.host(op, loss, hostCall(op, c -> c.host[o.slot] =
                            ((FloatBuffer) c.host[o.slot]).asReadOnlyBuffer())));
                }
            }
            for (Operand out : tensors(op)) {
                if (!out.role.written()) continue;
                for (Operand other : tensors(op)) {
                    if (other == out || other.dtype != out.dtype) continue;
                    // Partly over the other tensor: from its second element on (which a tensor of one
                    // element does not have).
                    float[] shared = new float[(int) Math.max(extent(op, out), extent(op, other)) + 1];
                    if (extent(op, other) > 1) {
                        overlapRefused(out, other, () -> Invoker.host(op, loss, hostCall(op, c -> {
                            c.host[other.slot] = FloatBuffer.wrap(shared, 0, (int) extent(op, other));
                            c.host[out.slot] = FloatBuffer.wrap(shared, 1, (int) extent(op, out));
                        })));
                    }
                    if (extent(op, out) != extent(op, other)) continue;
                    // Exactly the other tensor: runs where the declaration allows it.
                    Executable exact = () -> Invoker.host(op, loss, hostCall(op, c -> c.host[out.slot] =
                            c.host[other.slot]));
                    if (out.inPlaceOf.contains(other.name)) run(exact);
                    else overlapRefused(out, other, exact);
                }
            }
        }
    }

    private static Call hostCall(Op<?> op, Consumer<Call> change) {
        Call c = op.call();
        sizes(op, c);
        for (Operand o : tensors(op)) {
            c.host[o.slot] = buffer(o, extent(op, o));
            if (o.strided()) c.stride[o.slot] = c.sizes[o.dims[1]];
        }
        change.accept(c);
        return c;
    }

    private static Buffer buffer(Operand o, long extent) {
        if (o.role == Operand.Role.LABELS) return IntBuffer.wrap(new int[(int) extent]);  // class 0: valid
        float[] values = new float[(int) extent];
        for (int i = 0; i < values.length; i++) values[i] = 0.25f + 0.5f * (i % 2);  // in (0, 1): any input
        return FloatBuffer.wrap(values);
    }

    // ---------------------------------------------------------------- backend memory

    private static void device(LossDeclaration<?> d, Op<?> op, Backend backend) {
        Backend other = backend instanceof JavaBackend ? new JavaBackend(1) : Culoss.java();
        try (LossFunction loss = Declarations.build(d, backend, Map.of("reduction", "none"), Map.of());
                Buffers b = new Buffers(op, backend);
                DeviceBuffer ws = DeviceBuffer.allocate(backend, Math.max(16, Invoker.workspaceBytes(op, loss, sizes(op)))
                        + 64)) {
            backend.fill(ws.address(), 0, ws.bytes(), 0);
            Invoker.device(op, loss, b.call(c -> {}), ws);
            backend.synchronize(0);
            long needed = Invoker.workspaceBytes(op, loss, sizes(op));
            if (needed > 0) {
                refused("workspace", () -> Invoker.device(op, loss, b.call(c -> {}), null));
                try (DeviceBuffer small = DeviceBuffer.allocate(backend, needed - 1)) {
                    refused("workspace", () -> Invoker.device(op, loss, b.call(c -> {}), small));
                }
            }
            for (Operand o : tensors(op)) {
                long bytes = extent(op, o) * o.dtype.bytes;
                if (!o.optional) refused(o.name, () -> Invoker.device(op, loss, b.call(c -> c.device[o.slot] = null), ws));
                try (DeviceBuffer shortOne = DeviceBuffer.wrap(backend, b.of(o).address(), bytes - o.dtype.bytes, 0);
                        DeviceBuffer foreign = DeviceBuffer.allocate(other, bytes)) {
                    refused(o.name, () -> Invoker.device(op, loss, b.call(c -> c.device[o.slot] = shortOne), ws));
                    refused(o.name, () -> Invoker.device(op, loss, b.call(c -> c.device[o.slot] = foreign), ws));
                }
            }
            for (Operand out : tensors(op)) {
                if (!out.role.written()) continue;
                for (Operand o : tensors(op)) {
                    if (o == out) continue;
                    long outBytes = extent(op, out) * out.dtype.bytes;
                    try (DeviceBuffer inside = DeviceBuffer.wrap(backend, b.of(o).address() + 4, outBytes, 0);
                            DeviceBuffer exact = DeviceBuffer.wrap(backend, b.of(o).address(), outBytes, 0)) {
                        if (extent(op, o) * o.dtype.bytes > 4) {  // "inside": from its second element on
                            overlapRefused(out, o, () -> Invoker.device(op, loss, b.call(c -> c.device[out.slot] = inside),
                                    ws));
                        }
                        if (extent(op, out) != extent(op, o) || out.dtype != o.dtype) continue;
                        Executable same = () -> Invoker.device(op, loss, b.call(c -> c.device[out.slot] = exact), ws);
                        if (out.inPlaceOf.contains(o.name)) {
                            run(same);
                            backend.synchronize(0);
                        } else {
                            overlapRefused(out, o, same);
                        }
                    }
                }
            }
        }
    }

    /** One buffer per tensor, in backend memory, with room after it for the partial overlaps. */
    private static final class Buffers implements AutoCloseable {
        private final Op<?> op;
        private final DeviceBuffer[] buffers;

        Buffers(Op<?> op, Backend backend) {
            this.op = op;
            buffers = new DeviceBuffer[op.operands.size()];
            long most = 0;
            for (Operand o : tensors(op)) most = Math.max(most, extent(op, o));
            for (Operand o : tensors(op)) {
                buffers[o.slot] = DeviceBuffer.allocate(backend, (most + 1) * 4);
                Buffer host = buffer(o, most + 1);
                if (host instanceof IntBuffer) buffers[o.slot].copyFrom(((IntBuffer) host).array());
                else buffers[o.slot].copyFrom(((FloatBuffer) host).array());
            }
        }

        DeviceBuffer of(Operand o) {
            return buffers[o.slot];
        }

        Call call(Consumer<Call> change) {
            Call c = op.call();
            sizes(op, c);
            for (Operand o : tensors(op)) {
                c.device[o.slot] = buffers[o.slot];
                if (o.strided()) c.stride[o.slot] = c.sizes[o.dims[1]];
            }
            change.accept(c);
            return c;
        }

        @Override
        public void close() {
            for (DeviceBuffer b : buffers) {
                if (b != null) b.close();
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** The tensors a caller passes (the per-class table is the loss's own). */
    private static List<Operand> tensors(Op<?> op) {
        return op.operands.stream().filter(o -> o.role != Operand.Role.TABLE).toList();
    }

    private static long[] sizes(Op<?> op) {
        long[] s = new long[op.sizeNames.size()];
        for (int i = 0; i < s.length; i++) s[i] = SIZES.get(op.sizeNames.get(i));
        return s;
    }

    private static void sizes(Op<?> op, Call c) {
        System.arraycopy(sizes(op), 0, c.sizes, 0, c.sizes.length);
    }

    /**
     * Elements of {@code o} at the test sizes, reduction none; a loss without a reduction option
     * (a penalty: one summed value) has one value per sample tensor.
     */
    private static long extent(Op<?> op, Operand o) {
        if (o.perSample()) return hasReduction(op) ? op.samples(sizes(op)) : 1;
        long n = 1;
        for (int dim : o.dims) n *= SIZES.get(op.sizeNames.get(dim));
        return n;
    }

    private static boolean hasReduction(Op<?> op) {
        for (LossDeclaration<?> d : Declarations.all()) {
            if (d.forms().contains(op) || d.inPlaceOps.contains(op)) return d.param("reduction") != null;
        }
        throw new IllegalStateException(op.name + " is in no declaration");
    }

    private static void refused(String name, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, name);
        assertTrue(e.getMessage().startsWith(name + " "), () -> "'" + e.getMessage() + "' should name " + name);
    }

    private static void overlapRefused(Operand out, Operand other, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, out.name + " over " + other.name);
        String m = e.getMessage();
        assertTrue(m.equals(out.name + " overlaps " + other.name) || m.equals(other.name + " overlaps " + out.name), m);
    }

    private static void run(Executable call) {
        try {
            call.execute();
        } catch (Throwable t) {
            throw new AssertionError("an exact alias the declaration allows was refused: " + t, t);
        }
    }
}
