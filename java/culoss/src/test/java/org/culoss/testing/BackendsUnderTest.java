package org.culoss.testing;

import java.util.ArrayList;
import java.util.List;
import org.culoss.Backend;
import org.culoss.Culoss;
import org.culoss.internal.NativeLoader;

/**
 * The backends this JVM tests: java always; the native backend this JVM loaded (cuda in the
 * default surefire run, emulated in the second one) when it is usable. A GPU test on a machine
 * without one is reported skipped with the reason, not passed.
 */
public final class BackendsUnderTest {
    private BackendsUnderTest() {}

    public static List<Backend> all() {
        List<Backend> out = new ArrayList<>();
        out.add(Culoss.java());
        Backend nat = nativeOrNull();
        if (nat != null) out.add(nat);
        return out;
    }

    /** The native backend of this JVM, or null (cuda without a GPU, or -Dculoss.skipNative). */
    public static Backend nativeOrNull() {
        if (Boolean.getBoolean("culoss.skipNative")) return null;
        String kind = NativeLoader.kind();
        return Culoss.isAvailable(kind) ? Culoss.backend(kind) : null;
    }

    /** Why this JVM has no native backend under test. */
    public static String whyNoNative() {
        if (Boolean.getBoolean("culoss.skipNative")) return "built with -Dculoss.skipNative";
        String kind = NativeLoader.kind();
        Throwable cause = Culoss.unavailabilityCause(kind);
        return kind + " backend unavailable: " + (cause == null ? "?" : cause.getMessage());
    }
}
