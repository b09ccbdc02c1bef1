package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code porthole connect} as a user runs it: arguments, what it prints, and its exit codes. */
class ConnectCommandIT {

    private static final Pattern FORWARDING = Pattern.compile("Forwarding 127\\.0\\.0\\.1:(\\d+) -> "
            + Pattern.quote(DataPlane.FORWARD.toString()) + " via relay localhost:\\d+ until (\\S+) \\(bind scope LOOPBACK\\)");

    private final DataPlane plane = new DataPlane();
    private final List<AutoCloseable> targets = new ArrayList<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    @TempDir
    Path dir;
    private Path ca;
    private Path cert;
    private Path key;

    @BeforeEach
    void pemFiles() throws Exception {
        KeyMaterial client = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);
        ca = Files.writeString(dir.resolve("ca.pem"), Pem.write(plane.ca.certificate()));
        cert = Files.writeString(dir.resolve("client.pem"), Pem.write(client.chain()));
        key = Files.writeString(dir.resolve("client-key.pem"), Pem.write(client.privateKey()));
    }

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
        for (AutoCloseable target : targets) {
            target.close();
        }
    }

    private void agentForEchoTarget() throws java.io.IOException {
        Targets.Target echo = Targets.echo();
        targets.add(echo);
        plane.agent(echo.port());
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
    }

    private CompletableFuture<Integer> connect(String... extra) {
        List<String> args = new ArrayList<>(List.of("connect", DataPlane.FORWARD.toString(), "--local-port", "0",
                "--relay", "localhost:" + plane.relay.clientPort(), "--ca", ca.toString(),
                "--cert", cert.toString(), "--key", key.toString()));
        args.addAll(List.of(extra));
        return CompletableFuture.supplyAsync(() -> run(args.toArray(String[]::new)));
    }

    private int run(String... args) {
        CommandLine command = PortholeCli.commandLine().setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true));
        return command.execute(args);
    }

    @Test
    @DisplayName("connect says what it forwards and until when, carries a connection, and exits 4 when revoked")
    void forwardsUntilRevoked() throws Exception {
        // given
        agentForEchoTarget();
        // when
        CompletableFuture<Integer> exit = connect();
        await().atMost(Duration.ofSeconds(10)).until(() -> FORWARDING.matcher(out.toString()).find());
        Matcher forwarding = FORWARDING.matcher(out.toString());
        assertThat(forwarding.find()).isTrue();
        int port = Integer.parseInt(forwarding.group(1));
        byte[] echoed;
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("hello".getBytes());
            echoed = socket.getInputStream().readNBytes(5);
        }
        plane.relay.closeForward(DataPlane.FORWARD, EndReason.REVOKED);
        // then
        assertThat(echoed).isEqualTo("hello".getBytes());
        assertThat(forwarding.group(2)).isEqualTo(plane.forwardExpiresAt.toString());
        assertThat(exit.get()).isEqualTo(ConnectCommand.EXIT_REVOKED);
        assertThat(err.toString()).contains("porthole: ");
    }

    @Test
    @DisplayName("connect refuses 0.0.0.0 for a Loopback forward with the reason and exit code 1, listening on nothing")
    void refusesWildcardForLoopbackForward() throws Exception {
        // given
        agentForEchoTarget();
        // when
        int exit = connect("--address", "0.0.0.0").get();
        // then
        assertThat(exit).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(err.toString()).contains("refusing to listen on 0.0.0.0").contains("LOOPBACK");
        assertThat(out.toString()).doesNotContain("Forwarding");
    }

    @Test
    @DisplayName("the kubectl plugin wrapper runs the CLI jar with its JVM flags")
    void kubectlPluginWrapperRuns() throws Exception {
        // given: the wrapper next to the shaded jar in target/, as the module builds it
        Process wrapper = new ProcessBuilder("sh", "kubectl-porthole", "connect", "--help")
                .redirectErrorStream(true).start();
        // when
        String usage = new String(wrapper.getInputStream().readAllBytes());
        // then
        assertThat(wrapper.waitFor()).isZero();
        assertThat(usage).contains("Usage: porthole connect").contains("--local-port").contains("--address");
    }

    @Test
    @DisplayName("bad arguments are refused with a message that names the argument, never a stack trace")
    void badArguments() {
        String relay = "localhost:" + plane.relay.clientPort();
        assertThat(run("connect", DataPlane.FORWARD.toString(), "--local-port", "0", "--relay", relay, "--ca", ca.toString(),
                "--cert", cert.toString())).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(run("connect", DataPlane.FORWARD.toString(), "--local-port", "0", "--relay", "localhost", "--ca",
                ca.toString(), "--cert", cert.toString(), "--key", key.toString())).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(run("connect", DataPlane.FORWARD.toString(), "--local-port", "0", "--relay", "localhost:https", "--ca",
                ca.toString(), "--cert", cert.toString(), "--key", key.toString())).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(run("connect", DataPlane.FORWARD.toString(), "--local-port", "0", "--relay", relay, "--ca",
                dir.resolve("missing.pem").toString(), "--cert", cert.toString(), "--key", key.toString()))
                .isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(err.toString())
                .contains("porthole: --cert and --key go together")
                .contains("porthole: --relay must be host:port, got localhost")
                .contains("porthole: --relay port must be a number from 1 to 65535, got https")
                .contains("porthole: cannot read " + dir.resolve("missing.pem"))
                .doesNotContain("Exception");
    }
}
