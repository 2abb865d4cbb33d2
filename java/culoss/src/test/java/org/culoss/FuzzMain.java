package org.culoss;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs one fuzz test ({@code org.culoss.Class#method}) in this JVM without Maven, for
 * ci/fuzz-java.sh: Jazzer fuzzes one {@code @FuzzTest} per JVM. Jazzer's settings come as system
 * properties (JUnit takes them as configuration parameters): {@code JAZZER_FUZZ=1} and the
 * libFuzzer arguments {@code jazzer.internal.arg.N}. Exits 1 when the test failed (a finding).
 */
public final class FuzzMain {
    private FuzzMain() {}

    /**
     * The {@code @FuzzTest} method {@code Class#name}, whatever its parameters: a helper of the same
     * name (RowSoftmaxFuzzTest has rows(n, c, stride)) is not it, whichever order reflection lists
     * them in.
     */
    private static java.lang.reflect.Method method(String spec) throws ClassNotFoundException {
        int hash = spec.indexOf('#');
        Class<?> c = Class.forName(spec.substring(0, hash));
        for (java.lang.reflect.Method m : c.getDeclaredMethods()) {
            if (m.getName().equals(spec.substring(hash + 1)) && m.isAnnotationPresent(FuzzTest.class)) return m;
        }
        throw new IllegalArgumentException("spec: " + c + " has no @FuzzTest method " + spec.substring(hash + 1));
    }

    public static void main(String[] args) throws ClassNotFoundException {
        if (args.length != 1) {
            System.err.println("usage: FuzzMain org.culoss.SomeFuzzTest#method");
            System.exit(2);
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(method(args[0]).getDeclaringClass(), method(args[0])))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        summary.printFailuresTo(out, 40);
        summary.printTo(out);
        long bad = summary.getTotalFailureCount();
        if (summary.getTestsSucceededCount() + bad == 0) {
            out.println("FuzzMain: no test ran for " + args[0]);
            System.exit(2);
        }
        System.exit(bad == 0 ? 0 : 1);
    }
}
