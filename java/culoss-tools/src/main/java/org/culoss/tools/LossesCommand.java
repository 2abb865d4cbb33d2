package org.culoss.tools;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.culoss.Declarations;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code losses}: the declared losses, one name per line, or with {@code --json} every loss's
 * parameters, inputs, outputs, operations, C entry points and tensors, as the declarations give
 * them. The Python bench and reference scripts read this listing instead of keeping their own.
 */
@Command(name = "losses", description = "Lists the declared losses; --json: their parameters, tensors and C entry points.")
final class LossesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--json", description = "The whole listing as JSON.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(Declarations.json());
        } else {
            Declarations.names().forEach(out::println);
        }
        out.flush();
        return 0;
    }
}
