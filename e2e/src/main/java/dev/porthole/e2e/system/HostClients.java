package dev.porthole.e2e.system;

import dev.porthole.testcluster.HostCommand;
import dev.porthole.testcluster.ManagedProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The clients a user runs on their own machine against a forward's local end: Debian's psql, redis-cli and
 * curl, installed by scripts/setup-services.sh.
 */
public final class HostClients {
    private HostClients() {
    }

    /** {@code psql} against the database {@code app} on 127.0.0.1:{@code port} (a forward's local end). */
    public static List<String> psql(int port, String... args) {
        List<String> command = new ArrayList<>(List.of(require("/usr/bin/psql"), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres", "-d", "app"));
        command.addAll(List.of(args));
        return command;
    }

    /** A psql session left running (a live session for expiry, revocation and limits), its output in {@code logDir}. */
    public static ManagedProcess psqlSession(String name, int port, String sql, Path logDir) {
        return ManagedProcess.start(name, psql(port, "-c", sql), Map.of(), logDir);
    }

    /**
     * An interactive psql session reading statements from its stdin (one connection for its whole life), its output
     * unaligned in {@code logDir}: what a user's open psql prompt is.
     */
    public static ManagedProcess psqlInteractive(String name, int port, Path logDir) {
        return ManagedProcess.start(name, psql(port, "-At", "-v", "ON_ERROR_STOP=1"), Map.of(), logDir);
    }

    public static List<String> redisCli(int port, String... args) {
        List<String> command = new ArrayList<>(List.of(require("/usr/bin/redis-cli"), "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        return command;
    }

    /** {@code curl} of http://127.0.0.1:{@code port}/, failing on any HTTP or connection error. */
    public static List<String> curl(int port) {
        return List.of(require("/usr/bin/curl"), "-sS", "--fail", "--max-time", "10", "http://127.0.0.1:" + port + "/");
    }

    /** Runs a short command to completion; fails with its output when it fails. */
    public static String run(List<String> command, Duration timeout) {
        return HostCommand.run(timeout, command.toArray(String[]::new));
    }

    private static String require(String binary) {
        if (!Files.isExecutable(Path.of(binary))) {
            throw new IllegalStateException(binary + " is missing: run scripts/setup-services.sh (as root) to install it");
        }
        return binary;
    }
}
