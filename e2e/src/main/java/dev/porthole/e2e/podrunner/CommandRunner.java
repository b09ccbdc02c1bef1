package dev.porthole.e2e.podrunner;

import java.util.List;

/** Runs a host command to completion; a seam so network setup can be unit-tested without root. */
interface CommandRunner {

    Result run(List<String> command);

    /** Runs {@code command} and fails with its error output unless it exits 0. */
    default String runChecked(List<String> command) {
        Result result = run(command);
        if (result.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + result.exitCode() + "): "
                    + result.stderr().strip());
        }
        return result.stdout();
    }

    default String runChecked(String... command) {
        return runChecked(List.of(command));
    }

    record Result(int exitCode, String stdout, String stderr) {
    }
}
