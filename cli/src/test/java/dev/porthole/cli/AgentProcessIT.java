package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.pki.CertificateAuthority;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The agent as the operator runs it: the shaded jar, configured only by environment variables. */
class AgentProcessIT {

    private static final Path AGENT_JAR = Path.of("..", "tunnel-sidecar", "target", "porthole-agent.jar");

    @Test
    @DisplayName("the agent jar exits with code 0 at its deadline even though the relay is unreachable")
    void exitsAtDeadlineWithoutRelay() throws Exception {
        // given
        assertThat(AGENT_JAR).as("build tunnel-sidecar first").exists();
        CertificateAuthority ca = CertificateAuthority.create("ca", Duration.ofDays(1));
        String caPem = ca.keyMaterial().certificateChainPem();
        dev.porthole.protocol.pki.KeyMaterial agentKey = ca.issueAgentCertificate(new dev.porthole.protocol.pki.AgentIdentity(
                dev.porthole.protocol.ForwardRef.parse("shop/orders-db"), "uid-1", Instant.now().plusSeconds(600)));
        ProcessBuilder builder = new ProcessBuilder("java", "-Xmx64m", "-jar", AGENT_JAR.toString())
                .redirectErrorStream(true);
        builder.environment().put("PORTHOLE_RELAY_ADDRESS", "127.0.0.1:" + Targets.closedPort());
        builder.environment().put("PORTHOLE_FORWARD", "shop/orders-db");
        builder.environment().put("PORTHOLE_AGENT_TOKEN", "token");
        builder.environment().put("PORTHOLE_CA_PEM", caPem);
        builder.environment().put("PORTHOLE_AGENT_CERT_PEM", agentKey.certificateChainPem());
        builder.environment().put("PORTHOLE_AGENT_KEY_PEM", agentKey.privateKeyPem());
        builder.environment().put("PORTHOLE_TARGET_PORT", "5432");
        builder.environment().put("PORTHOLE_DEADLINE", Instant.now().plusSeconds(3).toString());
        // when
        Process agent = builder.start();
        boolean exited = agent.waitFor(30, TimeUnit.SECONDS);
        String output = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // then
        assertThat(exited).as(output).isTrue();
        assertThat(agent.exitValue()).as(output).isZero();
        assertThat(output).contains("cannot reach relay").contains("agent exited: deadline");
    }

    @Test
    @DisplayName("the agent jar names the missing variable and exits with code 2")
    void missingConfiguration() throws Exception {
        // given
        ProcessBuilder builder = new ProcessBuilder("java", "-jar", AGENT_JAR.toString()).redirectErrorStream(true);
        builder.environment().put("PORTHOLE_FORWARD", "shop/orders-db");
        // when
        Process agent = builder.start();
        boolean exited = agent.waitFor(30, TimeUnit.SECONDS);
        String output = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // then
        assertThat(exited).isTrue();
        assertThat(agent.exitValue()).isEqualTo(2);
        assertThat(output).contains("PORTHOLE_RELAY_ADDRESS is required");
    }
}
