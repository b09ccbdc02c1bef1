package dev.porthole.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code porthole} / {@code kubectl porthole}. */
@Command(name = "porthole", mixinStandardHelpOptions = true, version = "porthole 0.1.0",
        description = "Ephemeral, audited port forwards.", subcommands = {ConnectCommand.class, CreateCommand.class})
public final class PortholeCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line as {@code main} runs it: an unexpected failure prints one line, not a stack trace. */
    public static CommandLine commandLine() {
        return new CommandLine(new PortholeCli())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("porthole: " + e.getMessage());
                    return ConnectCommand.EXIT_ERROR;
                });
    }
}
