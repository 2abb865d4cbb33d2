package org.culoss;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/**
 * Memory a backend computes on: device memory on {@code cuda}, off-heap host memory on
 * {@code emulated} and {@code java}. It either owns an allocation ({@link Backend#allocateFloats})
 * or wraps a pointer that another pipeline owns ({@link #wrap}), optionally with the CUDA stream
 * that pipeline works on; a loss called on buffers queues its kernels on the stream of its
 * first input and does not synchronise.
 *
 * <p>Closing frees an owned allocation once no call is using it; any use after close throws
 * {@link IllegalStateException}, never touches freed memory.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Backend backend;
    private final long address;
    private final long bytes;
    private final long stream;
    private final boolean owned;
    // Number of calls in flight plus one while open (zstd-jni's AutoCloseBase idea).
    private final AtomicInteger references = new AtomicInteger(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The java backend's view of this memory, made on first use (a JNI call) and kept. */
    private ByteBuffer hostView;

    /** The buffer a view made by {@link #onStream} shares its memory and its lifetime with, or null. */
    private final DeviceBuffer owner;

    private DeviceBuffer(Backend backend, long address, long bytes, long stream, boolean owned) {
        this(backend, address, bytes, stream, owned, null);
    }

    private DeviceBuffer(Backend backend, long address, long bytes, long stream, boolean owned, DeviceBuffer owner) {
        this.backend = backend;
        this.address = address;
        this.bytes = bytes;
        this.stream = stream;
        this.owned = owned;
        this.owner = owner;
    }

    static DeviceBuffer allocate(Backend backend, long bytes) {
        return new DeviceBuffer(backend, backend.allocate(bytes), bytes, 0, true);
    }

    /**
     * Wraps memory owned elsewhere: {@code address} must be memory of {@code backend} (a CUDA
     * device pointer for {@code cuda}) of at least {@code bytes} bytes, and stays valid while this
     * buffer is used. {@code stream} is the {@code cudaStream_t} to work on (0: the default).
     */
    public static DeviceBuffer wrap(Backend backend, long address, long bytes, long stream) {
        if (backend == null) throw new IllegalArgumentException("backend is null");
        if (address == 0 && bytes > 0) throw new IllegalArgumentException("address is null");
        Backend.checkCount(bytes, "bytes");
        return new DeviceBuffer(backend, address, bytes, stream, false);
    }

    /**
     * The same memory on another stream: a view that lives no longer than this buffer. Once this
     * buffer is closed, the view refuses every use; while a call holds the view, this buffer's
     * memory stays until the call is done.
     */
    public DeviceBuffer onStream(long stream) {
        DeviceBuffer root = owner != null ? owner : this;
        return new DeviceBuffer(backend, address(), bytes, stream, false, root);
    }

    public Backend backend() {
        return backend;
    }

    /** The address, for passing to other native code. Throws once closed. */
    public long address() {
        if (isClosed()) throw new IllegalStateException("the buffer is closed");
        return address;
    }

    /** Closed, or a view whose owner is closed: its memory may be gone. */
    boolean isClosed() {
        return closed.get() || (owner != null && owner.closed.get());
    }

    public long bytes() {
        return bytes;
    }

    public long stream() {
        return stream;
    }

    /** Copies {@code src} to the start of this buffer and waits for the copy. */
    public void copyFrom(float[] src) {
        Checks.notNull(src, "src");
        checkFits(Sizes.bytes(src.length, Float.BYTES, "src"), "src");
        try (FloatPointer host = new FloatPointer(src)) {
            copyHost(host.address(), Sizes.bytes(src.length, Float.BYTES, "src"), 0);
        }
    }

    public void copyFrom(int[] src) {
        Checks.notNull(src, "src");
        checkFits(Sizes.bytes(src.length, Integer.BYTES, "src"), "src");
        try (IntPointer host = new IntPointer(src)) {
            copyHost(host.address(), Sizes.bytes(src.length, Integer.BYTES, "src"), 0);
        }
    }

    /** Copies the start of this buffer into {@code dst}, after the work queued on its stream. */
    public void copyTo(float[] dst) {
        Checks.notNull(dst, "dst");
        checkFits(Sizes.bytes(dst.length, Float.BYTES, "dst"), "dst");
        try (FloatPointer host = new FloatPointer(dst.length)) {
            copyHost(host.address(), Sizes.bytes(dst.length, Float.BYTES, "dst"), 1);
            host.get(dst);
        }
    }

    public void copyTo(int[] dst) {
        Checks.notNull(dst, "dst");
        checkFits(Sizes.bytes(dst.length, Integer.BYTES, "dst"), "dst");
        try (IntPointer host = new IntPointer(dst.length)) {
            copyHost(host.address(), Sizes.bytes(dst.length, Integer.BYTES, "dst"), 1);
            host.get(dst);
        }
    }

    private void copyHost(long host, long length, int kind) {
        acquire();
        try {
            if (length == 0) return;
            if (kind == 0) backend.copy(address, host, length, 0, stream);
            else backend.copy(host, address, length, 1, stream);
            backend.synchronize(stream);
        } finally {
            release();
        }
    }

    private void checkFits(long length, String name) {
        if (length > bytes) {
            throw new IllegalArgumentException(name + " (" + length + " bytes) does not fit the buffer (" + bytes + " bytes)");
        }
    }

    /** Marks the buffer in use by a call; throws if it is closed. */
    void acquire() {
        if (owner != null) {  // a view: the owner's count keeps the memory
            if (closed.get()) throw new IllegalStateException("the buffer is closed");
            owner.acquire();
            return;
        }
        while (true) {
            int n = references.get();
            if (n <= 0 || closed.get()) throw new IllegalStateException("the buffer is closed");
            if (references.compareAndSet(n, n + 1)) return;
        }
    }

    /**
     * This memory as a native-order buffer, for the java backend whose "device" memory is host
     * memory: made once, so that a call views it without a JNI call. Use it only while acquired.
     */
    ByteBuffer hostView() {
        ByteBuffer v = hostView;
        if (v == null) {
            v = OffHeap.bytes(address, bytes);
            hostView = v;  // a race makes two equal views: either serves
        }
        return v;
    }

    /** {@link #acquire}, then the address: a call holds the buffer while it uses the address. */
    long acquireAddress() {
        acquire();
        return address;
    }

    void release() {
        if (owner != null) {
            owner.release();
            return;
        }
        if (references.decrementAndGet() == 0 && owned) backend.free(address);
    }

    @Override
    public void close() {
        // The open mark is dropped once; a call still in flight frees on its release. A view holds
        // no mark of its own: closing it only refuses its later use.
        if (!closed.getAndSet(true) && owner == null) release();
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + backend + ", " + bytes + " bytes" + (owned ? "" : ", wrapped") + "]";
    }
}
