package org.culoss.dl4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Pointer;
import org.culoss.Backend;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stand-ins for the four nd4j-cuda classes {@link Nd4jCudaArrays} calls, with the same methods,
 * over nd4j-native memory: an array's "device pointer" is its host memory. Each checks the
 * protocol nd4j-cuda needs: an array's pointer is asked for only after {@code prepareAction} (which
 * moves an input to the device) or {@code prepareActionAllWrite} (an output) named it, an output
 * read after the call was registered as written (else nd4j would read a stale host copy), and the
 * stream is the {@code cudaStream_t}, not the address of the variable that holds it.
 */
final class StandInNd4jCuda {
    /** The culoss backend whose stream {@link Flow#registerActionAllWrite} waits for, as nd4j waits before a host read. */
    static volatile Backend backend;

    static final Set<INDArray> prepared = Collections.newSetFromMap(new IdentityHashMap<>());
    static final Set<INDArray> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
    static final Set<INDArray> registered = Collections.newSetFromMap(new IdentityHashMap<>());
    static final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    /** Device pointers asked for, over the whole run. */
    static volatile long pointers;

    private StandInNd4jCuda() {}

    static Nd4jCudaArrays.Handles handles() {
        try {
            return new Nd4jCudaArrays.Handles(Allocator.class, Flow.class, Context.class);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static void reset() {
        prepared.clear();
        outputs.clear();
        registered.clear();
        violations.clear();
    }

    /** Outputs culoss was given that were never registered as written. */
    static List<INDArray> unregistered() {
        List<INDArray> out = new ArrayList<>();
        for (INDArray a : outputs) if (!registered.contains(a)) out.add(a);
        return out;
    }

    /**
     * As nd4j-cuda's: {@code getOldStream()} is a pointer to the host variable that holds the
     * {@code cudaStream_t} (nd4j's native calls dereference it), {@code getCublasStream()} the
     * stream itself. Here the stream is 0, the default one; taking the variable's address for the
     * stream is a violation.
     */
    public static final class Context {
        public Pointer getOldStream() {
            violations.add("getOldStream() is the address of the variable that holds the stream, not the stream");
            return new Pointer() {
                {
                    address = 0x1000;
                }
            };
        }

        public Pointer getCublasStream() {
            return new Pointer();  // the default stream (address 0)
        }
    }

    public static final class Allocator {
        private static final Allocator INSTANCE = new Allocator();

        public static Allocator getInstance() {
            return INSTANCE;
        }

        public Flow getFlowController() {
            return new Flow();
        }

        public Pointer getPointer(INDArray a, Context context) {
            if (!prepared.contains(a)) violations.add("pointer of an array not prepared: " + a.shapeInfoToString());
            if (a.offset() != 0) violations.add("pointer of a view, offset " + a.offset());
            pointers++;
            return new Pointer() {
                {
                    address = a.data().addressPointer().address();
                }
            };
        }
    }

    public static class Flow {
        public Context prepareAction(INDArray result, INDArray... operands) {
            if (result != null) prepared.add(result);
            for (INDArray a : operands) prepared.add(a);
            return new Context();
        }

        public Context prepareActionAllWrite(INDArray... operands) {
            for (INDArray a : operands) {
                prepared.add(a);
                outputs.add(a);
            }
            return new Context();
        }

        public void registerActionAllWrite(Context context, INDArray... operands) {
            Collections.addAll(registered, operands);
            if (backend != null) backend.synchronize(0);
        }
    }
}
