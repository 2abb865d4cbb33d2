package org.culoss;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.IntPointer;
import org.culoss.internal.CulossNative;
import org.culoss.internal.NativeLoader;

/**
 * The backends, lz4-java's factory style: {@link #java()}, {@link #emulated()}, {@link #cuda()},
 * and {@link #fastest()}, which picks {@code cuda} when a device is usable and {@code java}
 * otherwise, and says why ({@link #fastestReason()}). Each unavailable backend has a cause
 * ({@link #unavailabilityCause}), as netty's {@code Epoll} has.
 *
 * <p>System properties: {@code culoss.backend} forces {@link #fastest()}'s choice;
 * {@code culoss.native} ({@code cuda} or {@code emulated}, read before the binding loads) picks the
 * native library of this JVM: one JVM runs either the cuda or the emulated backend, never both.
 */
public final class Culoss {
    /** Forces {@link #fastest()}: {@code java}, {@code emulated} or {@code cuda}. */
    public static final String BACKEND_PROPERTY = "culoss.backend";

    private static final JavaBackend JAVA = new JavaBackend(Runtime.getRuntime().availableProcessors());
    private static NativeBackend nativeBackend;
    private static Throwable nativeCause;
    private static boolean probed;

    private Culoss() {}

    /** Pure Java on all cores. Always available. */
    public static Backend java() {
        return JAVA;
    }

    /** Pure Java on {@code threads} threads (1: the caller's thread only). */
    public static Backend java(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads (" + threads + ") must be at least 1");
        return threads == JAVA.threads() ? JAVA : new JavaBackend(threads);
    }

    /** The CUDA kernels on a GPU; throws {@link CulossException} (NO_DEVICE) with the cause when unusable. */
    public static Backend cuda() {
        return require("cuda");
    }

    /** The CUDA kernels run on the CPU; needs a JVM started with {@code -Dculoss.native=emulated}. */
    public static Backend emulated() {
        return require("emulated");
    }

    /** A backend by name. */
    public static Backend backend(String name) {
        if ("java".equals(name)) return java();
        if ("cuda".equals(name) || "emulated".equals(name)) return require(name);
        throw new IllegalArgumentException("backend '" + name + "' is not java, emulated or cuda");
    }

    public static boolean isAvailable(String name) {
        return unavailabilityCause(name) == null;
    }

    /** Why {@code name} cannot be used in this JVM, or null when it can. */
    public static synchronized Throwable unavailabilityCause(String name) {
        switch (name) {
            case "java":
                return null;
            case "cuda":
            case "emulated":
                String loaded;
                try {
                    loaded = NativeLoader.kind();
                } catch (IllegalArgumentException badProperty) {
                    return badProperty;  // neither native library is loaded: the property names neither
                }
                if (!loaded.equals(name)) {
                    return new UnsupportedOperationException("this JVM loads the " + loaded
                            + " native library; start one with -D" + NativeLoader.PROPERTY + "=" + name);
                }
                probe();
                return nativeCause;
            default:
                throw new IllegalArgumentException("backend '" + name + "' is not java, emulated or cuda");
        }
    }

    /** {@code cuda} when a device is usable, else {@code java}; {@code -Dculoss.backend} overrides. */
    public static Backend fastest() {
        String forced = System.getProperty(BACKEND_PROPERTY);
        if (forced != null && !forced.isBlank()) return backend(forced.trim());
        return isAvailable("cuda") ? cuda() : java();
    }

    /** One line: which backend {@link #fastest()} picks and why. */
    public static String fastestReason() {
        String forced = System.getProperty(BACKEND_PROPERTY);
        if (forced != null && !forced.isBlank()) return forced.trim() + ": forced by -D" + BACKEND_PROPERTY;
        Throwable cause = unavailabilityCause("cuda");
        return cause == null ? "cuda: a CUDA device is usable" : "java: cuda is unavailable (" + cause.getMessage() + ")";
    }

    /** Each backend and its status, for {@code ./culoss info}. */
    public static Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : new String[] {"java", "emulated", "cuda"}) {
            Throwable cause = unavailabilityCause(name);
            out.put(name, cause == null ? "available" + details(name) : "unavailable: " + cause.getMessage());
        }
        return out;
    }

    private static String details(String name) {
        if (name.equals("java")) return " (" + JAVA.threads() + " threads)";
        int v = CulossNative.culossGetVersion();
        return " (libculoss " + v / 10000 + "." + v / 100 % 100 + "." + v % 100 + ", "
                + CulossNative.culossGetBackendName() + ")";
    }

    private static Backend require(String name) {
        Throwable cause = unavailabilityCause(name);
        if (cause != null) {
            CulossException e = new CulossException(Status.NO_DEVICE, "backend " + name + " is unavailable: "
                    + cause.getMessage());
            e.initCause(cause);
            throw e;
        }
        return nativeBackend;
    }

    // Loads the binding once and asks the library for a device.
    private static void probe() {
        if (probed) return;
        probed = true;
        try {
            String kind = NativeLoader.kind();
            try (IntPointer count = new IntPointer(1)) {
                int status = CulossNative.culossGetDeviceCount(count);
                if (status != 0 || count.get(0) < 1) {
                    nativeCause = new IllegalStateException(CulossNative.culossGetErrorString(status) + " ("
                            + CulossNative.culossGetLastErrorDetail() + ")");
                    return;
                }
            }
            if (!kind.equals(CulossNative.culossGetBackendName())) {
                nativeCause = new IllegalStateException("the loaded library is '" + CulossNative.culossGetBackendName()
                        + "', not '" + kind + "'");
                return;
            }
            nativeBackend = new NativeBackend(kind);
        } catch (Throwable t) {
            nativeCause = t;
        }
    }
}
