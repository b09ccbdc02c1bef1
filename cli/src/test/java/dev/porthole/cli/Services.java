package dev.porthole.cli;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real Debian binaries started as unprivileged servers on loopback, and run as clients. */
final class Services {

    static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");

    private Services() {
    }

    /** Fails (never skips) with a pointer to the setup script when a binary is missing. */
    static void require(String... binaries) {
        for (String binary : binaries) {
            if (!Files.isExecutable(Path.of(binary))) {
                fail(binary + " is missing: run scripts/setup-services.sh (as root) to install the test services");
            }
        }
    }

    /** Result of a finished client process. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("timed out: " + String.join(" ", command));
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    static Process start(Path log, String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static boolean listening(int port) {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static List<String> asPostgres(String... command) {
        List<String> full = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        full.addAll(List.of(command));
        return full;
    }
}
