package dev.porthole.e2e.podrunner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the tests ask of the host: its network namespaces and links, curl, free ports, processes. */
final class Host {

    private Host() {
    }

    /** Names of the host's {@code ph-*} network namespaces. */
    static List<String> podNamespaces() {
        List<String> names = new ArrayList<>();
        for (String line : run("ip", "netns", "list").stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith("ph-")) {
                names.add(name);
            }
        }
        return names;
    }

    /** Names of the host's {@code ph-*} links (bridge, veth host ends). */
    static List<String> podLinks() {
        List<String> names = new ArrayList<>();
        for (String line : run("ip", "-o", "link", "show").stdout().split("\n")) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length > 1) {
                String name = fields[1].replaceAll(":$", "").replaceAll("@.*$", "");
                if (name.startsWith("ph-")) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** {@code curl} from the host, never through a proxy, 3 s connect timeout. */
    static Result curl(String url) {
        return run("curl", "--silent", "--show-error", "--noproxy", "*", "--connect-timeout", "3", "--max-time", "10", url);
    }

    /** {@code curl} from inside a pod's network. */
    static Result curlInside(PodNetwork network, String url) {
        return run(network.inside("curl", "--silent", "--show-error", "--noproxy", "*", "--connect-timeout", "3",
                "--max-time", "10", url).toArray(String[]::new));
    }

    /** A TCP port nothing on the host's loopback listens on right now. */
    static int freeHostPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts {@code command}, output to {@code log}. */
    static Process start(List<String> command, Path log) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Result run(String... command) {
        try {
            Process p = new ProcessBuilder(command).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    record Result(int exitCode, String stdout, String stderr) {
        /** curl's exit code 7: the connection was refused (nothing listens there, for this caller). */
        static final int CURL_COULD_NOT_CONNECT = 7;
    }
}
