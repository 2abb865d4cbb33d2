package org.culoss.internal;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The threading of the pure-Java kernels: a loop over chunks whose boundaries the caller fixes
 * from the shape alone, run by up to {@code threads} workers (the calling thread is one of them,
 * beside pool tasks) that claim chunks one at a time, with the chunks' partial sums added in chunk
 * order. The sum is therefore the same bits for any thread count, and the serial case adds in the
 * same order as the parallel one.
 */
final class Chunked {
    private Chunked() {}

    /** One worker's state (its scratch arrays); {@code chunk(k)} does chunk k and returns its partial sum. */
    interface Worker {
        double chunk(int k);
    }

    /**
     * Runs chunk k for every k in [0, chunks) and returns the sum of their results, added in chunk
     * order. {@code newWorker} is called once per worker thread, in that thread.
     */
    static double sum(int chunks, int threads, Supplier<Worker> newWorker) {
        int workers = Math.min(threads, chunks);
        if (workers <= 1) {
            double total = 0;
            if (chunks > 0) {
                Worker w = newWorker.get();
                for (int k = 0; k < chunks; k++) {
                    total += w.chunk(k);
                }
            }
            return total;
        }
        double[] partials = new double[chunks];
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            Worker w = newWorker.get();
            for (int k; (k = next.getAndIncrement()) < chunks; ) {
                partials[k] = w.chunk(k);
            }
        };
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[workers - 1];
        for (int t = 0; t < tasks.length; t++) {
            tasks[t] = Pool.INSTANCE.submit(drain);
        }
        drain.run();
        for (ForkJoinTask<?> task : tasks) {
            task.join();
        }
        double total = 0;
        for (double partial : partials) {
            total += partial;
        }
        return total;
    }

    /** Created on first parallel use; its workers are daemon threads. */
    private static final class Pool {
        static final ForkJoinPool INSTANCE = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
    }
}
