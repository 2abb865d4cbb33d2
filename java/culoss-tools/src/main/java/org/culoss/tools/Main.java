package org.culoss.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code ./culoss} command: {@code verify DIR [--backend NAME]}, {@code info}, {@code bench} and {@code losses [--json]}. */
@Command(name = "culoss",
        description = "Fused loss kernels for Java: verify reference cases, show the backends, benchmark.",
        footer = {"", "./culoss demo [--help]: a Deeplearning4j network trained on Fashion-MNIST with DL4J's loss and"
                + " with culoss's, side by side (the launcher runs it from java/culoss-demo)."},
        subcommands = {VerifyCommand.class, InfoCommand.class, BenchCommand.class, LossesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a command is needed: verify, info, bench or losses");
    }

    /** The command line, for the launcher and for tests (which set its out and err). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
