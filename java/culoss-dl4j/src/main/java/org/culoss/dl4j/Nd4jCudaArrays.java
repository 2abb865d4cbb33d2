package org.culoss.dl4j;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.culoss.Backend;
import org.culoss.DeviceBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * nd4j-cuda arrays on culoss's cuda backend, with no copy: each array's device pointer from
 * nd4j's allocator, culoss's kernels queued on the stream of nd4j's context for this thread (so
 * they are ordered with nd4j's own ops, with no synchronisation), and the outputs registered as
 * written on the device, so that nd4j copies them to the host only when something reads them there
 * (nd4j's host copy waits for that stream first: {@code dbSyncToPrimary}).
 *
 * <p>Reached by reflection: nd4j-cuda (its native jar is about 600 MB, built for CUDA 11.6) is the
 * user's choice and is not a dependency of this module. The names are those of nd4j-cuda
 * 1.0.0-M2.1: {@code AtomicAllocator.getInstance().getFlowController().prepareAction(...)} for the
 * context (it moves each input to the device), {@code getPointer(array, context)},
 * {@code context.getCublasStream()} (the {@code cudaStream_t} itself: {@code getOldStream()} is the
 * address of the host variable that holds it, which nd4j's native calls dereference),
 * {@code registerActionAllWrite(context, outputs...)}; a test resolves each against that version's
 * classes.
 */
final class Nd4jCudaArrays extends DeviceArrays {
    static final String ALLOCATOR = "org.nd4j.jita.allocator.impl.AtomicAllocator";
    static final String FLOW = "org.nd4j.jita.flow.FlowController";
    static final String CONTEXT = "org.nd4j.linalg.jcublas.context.CudaContext";

    /** The handles, resolved once. */
    static final class Handles {
        final MethodHandle getInstance, getFlowController, prepareAction, prepareActionAllWrite,
                registerActionAllWrite, getPointer, getCublasStream;

        /** nd4j-cuda's classes, as {@code loader} finds them. */
        static Handles of(ClassLoader loader) throws ReflectiveOperationException {
            return new Handles(Class.forName(ALLOCATOR, false, loader), Class.forName(FLOW, false, loader),
                    Class.forName(CONTEXT, false, loader));
        }

        /** Classes with nd4j-cuda's methods (a test gives stand-ins). */
        Handles(Class<?> allocator, Class<?> flow, Class<?> context) throws ReflectiveOperationException {
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            Class<?> arrays = INDArray[].class;
            getInstance = l.findStatic(allocator, "getInstance", MethodType.methodType(allocator));
            getFlowController = l.findVirtual(allocator, "getFlowController", MethodType.methodType(flow));
            // fixed arity: the arrays are passed as the array they are
            prepareAction = l.findVirtual(flow, "prepareAction", MethodType.methodType(context, INDArray.class, arrays))
                    .asFixedArity();
            prepareActionAllWrite = l.findVirtual(flow, "prepareActionAllWrite", MethodType.methodType(context, arrays))
                    .asFixedArity();
            registerActionAllWrite = l.findVirtual(flow, "registerActionAllWrite",
                    MethodType.methodType(void.class, context, arrays)).asFixedArity();
            getPointer = l.findVirtual(allocator, "getPointer", MethodType.methodType(Pointer.class, INDArray.class, context));
            getCublasStream = l.findVirtual(context, "getCublasStream", MethodType.methodType(Pointer.class));
        }
    }

    private static volatile Object handles;  // Handles, or the Throwable that made them unusable

    private static Handles handles() {
        Object h = handles;
        if (h == null) {
            try {
                h = Handles.of(Nd4jCudaArrays.class.getClassLoader());
            } catch (ReflectiveOperationException | LinkageError e) {
                h = e;
            }
            handles = h;
        }
        return h instanceof Handles ? (Handles) h : null;
    }

    /** nd4j-cuda's classes are here and have the methods this class calls. */
    static boolean usable() {
        return handles() != null;
    }

    private final Handles h;
    private final Object allocator;
    private final Object flow;
    private Object context;
    private final List<INDArray> written = new ArrayList<>();

    Nd4jCudaArrays(Backend backend) {
        this(backend, handles());
    }

    Nd4jCudaArrays(Backend backend, Handles handles) {
        super(backend);
        this.h = handles;
        try {
            allocator = h.getInstance.invoke();
            flow = h.getFlowController.invoke(allocator);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Whether nd4j's device pointer of {@code a} is its first element: not a view into a larger buffer. */
    private static boolean whole(INDArray a) {
        return a.offset() == 0 && a.data().offset() == 0;
    }

    private DeviceBuffer wrap(INDArray a) {
        Pointer p, stream;
        try {
            p = (Pointer) h.getPointer.invoke(allocator, a, context);
            stream = (Pointer) h.getCublasStream.invoke(context);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        if (p == null || p.isNull())
            throw new IllegalStateException("nd4j-cuda gave no device pointer for " + a.shapeInfoToString());
        return DeviceBuffer.wrap(backend, p.address(), bytes(a), stream == null ? 0 : stream.address());
    }

    @Override
    DeviceBuffer in(INDArray a) {
        if (a.isEmpty()) return DeviceBuffer.wrap(backend, 0, 0, 0);
        checkPlain(a);
        INDArray w = hold(whole(a) ? a : a.dup('c'));  // a view: a copy of it, on the device
        try {
            context = h.prepareAction.invoke(flow, (INDArray) null, new INDArray[] {w});  // moves it to the device
        } catch (Throwable e) {
            throw rethrow(e);
        }
        return wrap(w);
    }

    @Override
    DeviceBuffer out(INDArray a) {
        if (a.isEmpty()) return DeviceBuffer.wrap(backend, 0, 0, 0);
        checkPlain(a);
        if (!whole(a)) throw new IllegalStateException("an output must be a whole array: " + a.shapeInfoToString());
        hold(a);
        try {
            context = h.prepareActionAllWrite.invoke(flow, new INDArray[] {a});
        } catch (Throwable e) {
            throw rethrow(e);
        }
        written.add(a);
        return wrap(a);
    }

    @Override
    public void close() {
        try {
            if (!written.isEmpty()) h.registerActionAllWrite.invoke(flow, context, written.toArray(new INDArray[0]));
        } catch (Throwable e) {
            throw rethrow(e);
        } finally {
            release();
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException) return (RuntimeException) e;
        if (e instanceof Error) throw (Error) e;
        return new IllegalStateException("nd4j-cuda: " + e, e);
    }
}
