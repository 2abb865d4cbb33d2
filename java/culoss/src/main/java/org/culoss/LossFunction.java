package org.culoss;

import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every loss object holds: its backend, its reduction, its per-class table (class weights,
 * per-class alpha) with the copy a native backend reads, and its open state. A call holds the
 * loss for its duration (zstd-jni's AutoCloseBase idea, as {@link DeviceBuffer} does), so a
 * concurrent {@link #close} never frees the table under a running kernel; a closed loss refuses
 * every call on every backend.
 */
public abstract class LossFunction implements AutoCloseable {
    final Backend backend;
    final Reduction reduction;
    private final float[] table;
    private final DeviceBuffer deviceTable;
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();

    /** {@code table}: the per-class table, already checked and copied, or null. */
    LossFunction(Backend backend, Reduction reduction, float[] table) {
        this.backend = backend != null ? backend : Culoss.fastest();
        this.reduction = reduction;
        this.table = table;
        if (table != null && !(this.backend instanceof JavaBackend)) {
            deviceTable = this.backend.allocateFloats(table.length);
            deviceTable.copyFrom(table);
        } else {
            deviceTable = null;
        }
    }

    /** The backend this loss runs on. */
    public Backend backend() {
        return backend;
    }

    public Reduction reduction() {
        return reduction;
    }

    /** The ignore index as the C API takes it; {@code Long.MIN_VALUE}: none (every label counts). */
    long ignoreIndexValue() {
        return Long.MIN_VALUE;
    }

    /** The per-class table (not a copy), or null. */
    float[] table() {
        return table;
    }

    /** Its copy in backend memory, or null (no table, or the java backend). */
    DeviceBuffer deviceTable() {
        return deviceTable;
    }

    /**
     * Puts the table in {@code slot} of a call: a call on backend memory takes its copy there when
     * there is one (the java backend has none), a host call takes it as an array.
     */
    void putTable(Call call, int slot, boolean deviceCall) {
        boolean hostTable = table != null && (!deviceCall || deviceTable == null);
        call.host[slot] = hostTable ? FloatBuffer.wrap(table) : null;
        call.device[slot] = deviceTable;
    }

    /** Marks a call in flight; throws once the loss is closed. */
    void acquire() {
        while (true) {
            int n = references.get();
            if (n <= 0 || closed.get()) throw new IllegalStateException("the loss is closed");
            if (references.compareAndSet(n, n + 1)) return;
        }
    }

    void release() {
        if (references.decrementAndGet() == 0 && deviceTable != null) deviceTable.close();
    }

    /** Refuses later calls; frees the table's copy once the calls in flight are done. */
    @Override
    public void close() {
        if (!closed.getAndSet(true)) release();
    }
}
