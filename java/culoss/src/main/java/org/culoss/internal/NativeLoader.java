package org.culoss.internal;

import java.io.File;
import org.bytedeco.javacpp.Loader;

/**
 * Loads one of the two native libraries behind the one binding, {@link CulossNative}: the CUDA
 * library ({@code libculoss.so}) or the same kernels built for the CPU ({@code libculoss_emu.so}).
 * The choice is the system property {@value #PROPERTY} ({@code cuda}, the default, or
 * {@code emulated}), read once, before the binding loads; a JVM holds one of them.
 *
 * <p>Both the C library and its JNI library are extracted from the jar (JavaCPP's cache) and
 * loaded by absolute path, C library first, so the JNI library's dependency is the copy already
 * loaded and no rpath to a build folder is ever consulted.
 */
public final class NativeLoader {
    /** The system property that picks the native library of this JVM. */
    public static final String PROPERTY = "culoss.native";

    private static String kind;
    private static Throwable failure;

    private NativeLoader() {}

    /** The values {@value #PROPERTY} takes (in any case). */
    private static final String[] KINDS = {"cuda", "emulated"};

    /**
     * {@code cuda} or {@code emulated}: the library this JVM loads (or tried to). A value of
     * {@value #PROPERTY} that names neither throws {@link IllegalArgumentException} every time:
     * loading cuda in its place would run a different backend than the one asked for.
     */
    public static synchronized String kind() {
        if (kind == null) kind = parseKind(System.getProperty(PROPERTY));
        return kind;
    }

    /** The library a value of {@value #PROPERTY} names: unset or blank is cuda; case does not matter. */
    public static String parseKind(String requested) {
        if (requested == null || requested.isBlank()) return "cuda";
        for (String k : KINDS) {
            if (k.equalsIgnoreCase(requested.trim())) return k;
        }
        throw new IllegalArgumentException("-D" + PROPERTY + " ('" + requested + "') is not one of "
                + String.join(", ", KINDS));
    }

    /** Loads the libraries; throws what went wrong, every time it is asked again. */
    static synchronized void load() {
        if (failure != null) throw rethrowable(failure);
        try {
            String base = kind().equals("emulated") ? "culoss_emu" : "culoss";
            String folder = Loader.getPlatform() + "/";
            File library = Loader.cacheResource(CulossNative.class, folder + "lib" + base + ".so");
            File jni = Loader.cacheResource(CulossNative.class, folder + "libjni" + base + ".so");
            if (library == null || jni == null) {
                throw new UnsatisfiedLinkError("culoss: no lib" + base + ".so for " + Loader.getPlatform()
                        + " in the jar (built with -Dculoss.skipNative?)");
            }
            Loader.load(org.bytedeco.javacpp.Pointer.class);  // JavaCPP's own JNI library first
            System.load(library.getAbsolutePath());
            System.load(jni.getAbsolutePath());
        } catch (Throwable t) {
            failure = t;
            throw rethrowable(t);
        }
    }

    private static RuntimeException rethrowable(Throwable t) {
        if (t instanceof Error) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(t.getMessage());
            e.initCause(t);
            throw e;
        }
        return new IllegalStateException("culoss: cannot load the native library: " + t, t);
    }
}
