package dev.porthole.e2e.system;

import dev.porthole.e2e.podrunner.PodNetwork;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.ServiceDirectories;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Real services from Debian's packages, started inside a pod's network namespace and bound to the
 * pod's own 127.0.0.1, the way an application container would listen only on localhost. Installed by
 * scripts/setup-services.sh.
 */
public final class TargetServers {
    static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");

    private TargetServers() {
    }

    /** PostgreSQL with database {@code app} and a table {@code orders}, as the unprivileged user postgres. */
    public static ManagedProcess postgres(PodNetwork net, Path wanted, int port) {
        requireBinary(PG_BIN.resolve("initdb"));
        Path dir;
        Path data;
        try {
            dir = ServiceDirectories.reachableByServiceUsers(wanted);
            data = dir.resolve("pgdata");
            deleteTree(data); // a throw-away target: a data directory left by an earlier run starts afresh
            run(List.of("chown", "postgres:postgres", dir.toString()), Duration.ofSeconds(10));
            run(List.of("runuser", "-u", "postgres", "--", PG_BIN.resolve("initdb").toString(), "-D", data.toString(),
                    "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"), Duration.ofSeconds(60));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ManagedProcess pg = ManagedProcess.start("postgres", net.inside("runuser", "-u", "postgres", "--",
                PG_BIN.resolve("postgres").toString(), "-D", data.toString(), "-p", Integer.toString(port),
                "-c", "listen_addresses=127.0.0.1", "-k", dir.toString(), "-c", "fsync=off"), Map.of(), dir);
        if (!dir.equals(wanted.toAbsolutePath().normalize())) {
            pg.whenClosed(() -> deleteQuietly(dir)); // a stand-in outside the work tree is not left behind
        }
        pg.awaitOutput(out -> out.contains("database system is ready to accept connections"), Duration.ofSeconds(60));
        run(net.inside(PG_BIN.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres",
                "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE app"), Duration.ofSeconds(30));
        run(net.inside(PG_BIN.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres",
                "-d", "app", "-v", "ON_ERROR_STOP=1", "-c",
                "CREATE TABLE orders(id int primary key, state text); INSERT INTO orders VALUES (4821, 'stuck in migration')"),
                Duration.ofSeconds(30));
        return pg;
    }

    public static ManagedProcess redis(PodNetwork net, Path dir, int port) {
        requireBinary(Path.of("/usr/bin/redis-server"));
        ManagedProcess redis = ManagedProcess.start("redis", net.inside("/usr/bin/redis-server", "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()), Map.of(), dir);
        redis.awaitOutput(out -> out.contains("Ready to accept connections"), Duration.ofSeconds(30));
        return redis;
    }

    /** python3's http.server serving {@code dir}, which gets an index.html saying {@code greeting}. */
    public static ManagedProcess http(PodNetwork net, Path dir, int port, String greeting) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("index.html"), greeting + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ManagedProcess http = ManagedProcess.start("http", net.inside("/usr/bin/python3", "-u", "-m", "http.server",
                Integer.toString(port), "--bind", "127.0.0.1", "--directory", dir.toString()), Map.of(), dir);
        http.awaitOutput(out -> out.contains("Serving HTTP"), Duration.ofSeconds(30));
        return http;
    }

    /** {@code psql} against the demo database {@code app} on 127.0.0.1:{@code port} (a forward's local end). */
    public static List<String> psql(int port, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/psql", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres", "-d", "app"));
        command.addAll(List.of(args));
        return command;
    }

    /** A psql session left running (a live session for expiry, revocation and limits), its output in {@code logDir}. */
    public static ManagedProcess psqlSession(String name, int port, String sql, Path logDir) {
        return ManagedProcess.start(name, psql(port, "-c", sql), Map.of(), logDir);
    }

    /** Runs a short command to completion; fails with its output when it fails. */
    public static String run(List<String> command, Duration timeout) {
        try {
            Path out = Files.createTempFile("porthole-cmd", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout + ": " + command);
            }
            String text = Files.readString(out);
            Files.deleteIfExists(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (" + p.exitValue() + "): " + command + "\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (IOException e) {
            throw new UncheckedIOException("could not remove " + root, e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static void requireBinary(Path binary) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is missing: run scripts/setup-services.sh (as root) to install it");
        }
    }
}
