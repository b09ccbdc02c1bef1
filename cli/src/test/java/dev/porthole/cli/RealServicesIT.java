package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.testcluster.ServiceDirectories;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Real servers behind the tunnel, driven by their real clients: psql, redis-cli, curl. */
class RealServicesIT {

    private static final Path WORK = Path.of("target", "services").toAbsolutePath();

    private final DataPlane plane = new DataPlane();
    private Process server;
    private Runnable stopServer = () -> { };

    private final List<Path> toRemove = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
        stopServer.run();
        if (server != null) {
            server.destroy();
            server.waitFor();
        }
        for (Path dir : toRemove) {
            Services.run(Duration.ofSeconds(30), "rm", "-rf", dir.toString());
        }
    }

    private void removeAfter(Path dir) {
        toRemove.add(dir);
    }

    private Forwarder tunnelTo(int port) {
        plane.agent(port);
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
        return plane.forwarder();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    @DisplayName("psql queries a real PostgreSQL through the tunnel")
    void postgresThroughTunnel() throws Exception {
        // given
        Services.require(Services.PG_BIN + "/initdb", Services.PG_BIN + "/postgres", "/usr/bin/psql", "/usr/sbin/runuser");
        Path data = ServiceDirectories.reachableByServiceUsers(WORK.resolve("pg"));
        Services.run(Duration.ofSeconds(10), "rm", "-rf", data.resolve("db").toString()); // a fresh server each run
        if (!data.startsWith(WORK)) {
            removeAfter(data); // a stand-in outside the work tree is not left behind
        }
        Services.run(Duration.ofSeconds(10), "chown", "postgres:postgres", data.toString());
        Services.Result init = Services.run(Duration.ofSeconds(120), Services.asPostgres(Services.PG_BIN + "/initdb",
                "-D", data.resolve("db").toString(), "--auth=trust", "-U", "postgres").toArray(String[]::new));
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        int port = freePort();
        server = new ProcessBuilder(Services.asPostgres(Services.PG_BIN + "/postgres", "-D", data.resolve("db").toString(),
                "-p", String.valueOf(port), "-c", "listen_addresses=127.0.0.1", "-k", data.toString()))
                .redirectErrorStream(true).redirectOutput(data.resolve("postgres.log").toFile()).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> Services.listening(port));
        Forwarder forwarder = tunnelTo(port);
        String local = String.valueOf(forwarder.localAddress().getPort());
        // when
        Services.Result create = Services.run(Duration.ofSeconds(30), "psql", "-h", "127.0.0.1", "-p", local,
                "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c",
                "create table orders(id int primary key, item text); insert into orders select g, 'item ' || g from generate_series(1, 5000) g;");
        Services.Result query = Services.run(Duration.ofSeconds(30), "psql", "-h", "127.0.0.1", "-p", local,
                "-U", "postgres", "-At", "-c", "select count(*), max(item) from orders");
        // then
        assertThat(create.exitCode()).as(create.stderr()).isZero();
        assertThat(query.stdout().trim()).isEqualTo("5000|item 999");
        await().atMost(Duration.ofSeconds(5)).until(() -> plane.closed.size() == 2);
        assertThat(plane.closed).allSatisfy(session -> assertThat(session.bytesToClient()).isPositive());
    }

    @Test
    @DisplayName("redis-cli sets and gets through the tunnel")
    void redisThroughTunnel() throws Exception {
        // given
        Services.require("/usr/bin/redis-server", "/usr/bin/redis-cli");
        Path dir = Files.createTempDirectory(Files.createDirectories(WORK), "redis");
        int port = freePort();
        server = Services.start(dir.resolve("redis.log"), "redis-server", "--port", String.valueOf(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> Services.listening(port));
        Forwarder forwarder = tunnelTo(port);
        String local = String.valueOf(forwarder.localAddress().getPort());
        // when
        Services.Result set = Services.run(Duration.ofSeconds(10), "redis-cli", "-h", "127.0.0.1", "-p", local,
                "set", "porthole", "through the tunnel");
        Services.Result get = Services.run(Duration.ofSeconds(10), "redis-cli", "-h", "127.0.0.1", "-p", local,
                "get", "porthole");
        // then
        assertThat(set.stdout().trim()).isEqualTo("OK");
        assertThat(get.stdout().trim()).isEqualTo("through the tunnel");
    }

    @Test
    @DisplayName("curl downloads a file from a real HTTP server through the tunnel")
    void httpThroughTunnel() throws Exception {
        // given
        Services.require("/usr/bin/curl", "/usr/bin/python3");
        Path dir = Files.createTempDirectory(Files.createDirectories(WORK), "http");
        byte[] content = new byte[3 * 1024 * 1024];
        new java.util.Random(3).nextBytes(content);
        Files.write(dir.resolve("blob.bin"), content);
        int port = freePort();
        server = new ProcessBuilder("python3", "-m", "http.server", String.valueOf(port), "--bind", "127.0.0.1",
                "--directory", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("http.log").toFile()).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> Services.listening(port));
        Forwarder forwarder = tunnelTo(port);
        Path downloaded = dir.resolve("downloaded.bin");
        // when
        Services.Result curl = Services.run(Duration.ofSeconds(30), "curl", "-sS", "--fail", "-o", downloaded.toString(),
                "http://127.0.0.1:" + forwarder.localAddress().getPort() + "/blob.bin");
        // then
        assertThat(curl.exitCode()).as(curl.stderr()).isZero();
        assertThat(Files.readAllBytes(downloaded)).isEqualTo(content);
    }
}
