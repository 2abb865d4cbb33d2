package org.culoss.tools.bench;

/**
 * One loss on one shape with its inputs, outputs and workspace already in a backend's memory
 * (off-heap for java, device memory for cuda), ready to run forward+backward again and again.
 * Made by {@link Workloads}; what {@code ./culoss bench} and the JMH benchmarks time.
 */
public interface Workload extends AutoCloseable {
    /** Queues one fused forward+backward (no copy, no synchronisation). */
    void run();

    /** Waits until what {@link #run} queued is done. */
    void synchronize();

    /** The bytes that must move: every input read once, every output written once. */
    long bytesMoved();

    /** Frees the buffers. */
    @Override
    void close();
}
