package org.culoss;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import org.bytedeco.javacpp.SizeTPointer;
import org.culoss.internal.CulossNative;

/**
 * The C entry points of one elementwise loss, found in the binding by the header's rule for that
 * family: {@code <prefix>Forward}, {@code <prefix>Backward}, {@code <prefix>ForwardBackward} and
 * {@code <prefix>WorkspaceSize}, each taking {@code (input, target, count, dtype, <the loss's float
 * parameters>, reduction, ...)}. So an elementwise loss declares its prefix and its parameter
 * values, not twelve lines of C call per mode; a prefix or parameter count that does not match
 * the header fails on the loss's first native call, naming the function.
 *
 * <p>The three calls are bound to one loss's parameters and reduction once, on its first native
 * call (never for the java backend, which must not load the binding), and then called exactly:
 * no boxing, no lookup per call.
 */
final class ElementwiseEntryPoints {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final Class<?> L = long.class;
    private static final Class<?> I = int.class;

    private final MethodHandle forward;
    private final MethodHandle backward;
    private final MethodHandle forwardBackward;
    private final MethodHandle workspaceSize;

    private ElementwiseEntryPoints(String prefix, float[] params, Reduction reduction) {
        workspaceSize = MethodHandles.insertArguments(find(prefix + "WorkspaceSize",
                MethodType.methodType(I, L, I, I, SizeTPointer.class)), 2, reduction.nativeValue());
        forward = bind(prefix + "Forward", params, reduction, L, L, L, L);
        backward = bind(prefix + "Backward", params, reduction, L, L, L, L, L);
        forwardBackward = bind(prefix + "ForwardBackward", params, reduction, L, L, L, L, L, L);
    }

    static ElementwiseEntryPoints of(String prefix, float[] params, Reduction reduction) {
        return new ElementwiseEntryPoints(prefix, params, reduction);
    }

    /** {@code (x, t, count, dtype, params..., reduction, tail...)} with params and reduction bound. */
    private static MethodHandle bind(String name, float[] params, Reduction reduction, Class<?>... tail) {
        Class<?>[] types = new Class<?>[4 + params.length + 1 + tail.length];
        Arrays.fill(types, 0, 3, L);
        types[3] = I;
        Arrays.fill(types, 4, 4 + params.length, float.class);
        types[4 + params.length] = I;
        System.arraycopy(tail, 0, types, 5 + params.length, tail.length);
        Object[] bound = new Object[params.length + 1];
        for (int i = 0; i < params.length; i++) bound[i] = params[i];
        bound[params.length] = reduction.nativeValue();
        return MethodHandles.insertArguments(find(name, MethodType.methodType(I, types)), 4, bound);
    }

    private static MethodHandle find(String name, MethodType type) {
        try {
            return LOOKUP.findStatic(CulossNative.class, name, type);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new IllegalStateException("the C API has no " + name + type + " for this elementwise loss", e);
        }
    }

    /** One native call of {@code mode} on the checked addresses of {@code c}. */
    int call(Mode mode, Call c) {
        long x = c.address[ElementwiseLoss.X];
        long t = c.address[ElementwiseLoss.T];
        long count = c.sizes[ElementwiseLoss.COUNT];
        long gradOutput = c.address[ElementwiseLoss.GRAD_OUTPUT];
        long loss = c.address[ElementwiseLoss.LOSS];
        long grad = c.address[ElementwiseLoss.GRAD];
        try {
            return switch (mode) {
                case FORWARD -> (int) forward.invokeExact(x, t, count, c.dtype, loss, c.workspace, c.workspaceBytes,
                        c.stream);
                case BACKWARD -> (int) backward.invokeExact(x, t, count, c.dtype, gradOutput, grad, c.workspace,
                        c.workspaceBytes, c.stream);
                case FORWARD_BACKWARD -> (int) forwardBackward.invokeExact(x, t, count, c.dtype, gradOutput, loss,
                        grad, c.workspace, c.workspaceBytes, c.stream);
            };
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);  // a static native method declares no checked exception
        }
    }

    /** {@code <prefix>WorkspaceSize(count, dtype, reduction, bytes)}. */
    int workspaceSize(long count, int dtype, SizeTPointer bytes) {
        try {
            return (int) workspaceSize.invokeExact(count, dtype, bytes);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
