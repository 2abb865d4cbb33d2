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
 * written on the device, so that nd4j copies them to the host only when something reads them there.
 *
 * <p>Reached by reflection: nd4j-cuda (its native jar is about 600 MB, built for CUDA 11.6) is the
 * user's choice and is not a dependency of this module. The names are those of nd4j-cuda
 * 1.0.0-M2.1: {@code AtomicAllocator.getInstance().getFlowController().prepareAction(...)} for the
 * context (it moves each input to the device), {@code getPointer(array, context)},
 * {@code context.getOldStream()}, {@code registerActionAllWrite(context, outputs...)}; a test
 * resolves each against that version's classes.
 */
final class Nd4jCudaArrays extends DeviceArrays {
    static final String ALLOCATOR = "org.nd4j.jita.allocator.impl.AtomicAllocator";
    static final String FLOW = "org.nd4j.jita.flow.FlowController";
    static final String CONTEXT = "org.nd4j.linalg.jcublas.context.CudaContext";
    static final String STREAM = "org.nd4j.jita.allocator.pointers.cuda.cudaStream_t";

    /** The handles, resolved once. */
    static final class Handles {
        final MethodHandle getInstance, getFlowController, prepareAction, prepareActionAllWrite,
                registerActionAllWrite, getPointer, getOldStream;

        /** nd4j-cuda's classes, as {@code loader} finds them. */
        static Handles of(ClassLoader loader) throws ReflectiveOperationException {
            return new Handles(Class.forName(ALLOCATOR, false, loader), Class.forName(FLOW, false, loader),
                    Class.forName(CONTEXT, false, loader), Class.forName(STREAM, false, loader));
        }

        /** Classes with nd4j-cuda's methods (a test gives stand-ins). */
        Handles(Class<?> allocator, Class<?> flow, Class<?> context, Class<?> stream) throws ReflectiveOperationException {
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
            if (!Pointer.class.isAssignableFrom(stream)) throw new ClassCastException(stream + " is not a JavaCPP Pointer");
            getOldStream = l.findVirtual(context, "getOldStream", MethodType.methodType(stream));
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

    /** The array itself when its device pointer is its first element, else a device copy (nd4j's). */
    private static INDArray whole(INDArray a) {
        checkPlain(a);
        return a.offset() == 0 && a.data().offset() == 0 ? a : a.dup('c');
    }

    private DeviceBuffer wrap(INDArray a) {
        try {
            long address = ((Pointer) h.getPointer.invoke(allocator, a, context)).address();
            long stream = ((Pointer) h.getOldStream.invoke(context)).address();
            return DeviceBuffer.wrap(backend, address, bytes(a), stream);
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    @Override
    DeviceBuffer in(INDArray a) {
        if (a.isEmpty()) return DeviceBuffer.wrap(backend, 0, 0, 0);
        INDArray w = whole(a);
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
        if (whole(a) != a) throw new IllegalStateException("an output must be a whole array: " + a.shapeInfoToString());
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
        if (written.isEmpty()) return;
        try {
            h.registerActionAllWrite.invoke(flow, context, written.toArray(new INDArray[0]));
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException) return (RuntimeException) e;
        if (e instanceof Error) throw (Error) e;
        return new IllegalStateException("nd4j-cuda: " + e, e);
    }
}
