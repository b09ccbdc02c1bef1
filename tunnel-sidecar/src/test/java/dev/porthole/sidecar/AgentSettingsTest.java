package dev.porthole.sidecar;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.RelayAddress;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentSettingsTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("ca", Duration.ofDays(1));
    private static final String CA_PEM = CA.keyMaterial().certificateChainPem();
    private static final String FORWARD_UID = "7f1a34e1-0c2d-4e5f-8a9b-0123456789ab";
    private static final KeyMaterial AGENT_KEY = agentKey("shop/orders-db");

    private static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("PORTHOLE_RELAY_ADDRESS", "relay.porthole.svc:7443");
        env.put("PORTHOLE_FORWARD", "shop/orders-db");
        env.put("PORTHOLE_AGENT_TOKEN", "secret");
        env.put("PORTHOLE_CA_PEM", CA_PEM);
        env.put("PORTHOLE_AGENT_CERT_PEM", AGENT_KEY.certificateChainPem());
        env.put("PORTHOLE_AGENT_KEY_PEM", AGENT_KEY.privateKeyPem());
        env.put("PORTHOLE_TARGET_PORT", "5432");
        env.put("PORTHOLE_DEADLINE", "2026-11-25T18:00:00Z");
        return env;
    }

    private static KeyMaterial agentKey(String forward) {
        return CA.issueAgentCertificate(new AgentIdentity(ForwardRef.parse(forward), FORWARD_UID,
                Instant.now().plus(Duration.ofHours(1))));
    }

    @Test
    @DisplayName("several relay addresses, separated by commas, are all linked; a bad one is refused by name")
    void readsSeveralRelays() {
        // given
        Map<String, String> env = environment();
        env.put("PORTHOLE_RELAY_ADDRESS", "porthole-relay-agents.porthole.svc:7443, 10.1.2.3:7444");
        // when
        AgentConfig config = AgentSettings.read(env, new String[0]);
        // then
        assertThat(config.relays()).containsExactly(new RelayAddress("porthole-relay-agents.porthole.svc", 7443),
                new RelayAddress("10.1.2.3", 7444));
        env.put("PORTHOLE_RELAY_ADDRESS", "relay-a:7443,relay-b");
        assertThatThrownBy(() -> AgentSettings.read(env, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class).hasMessageContaining("relay-b");
    }

    @Test
    @DisplayName("the operator's environment variables configure the agent, target host defaulting to loopback")
    void readsEnvironment() {
        // given / when
        AgentConfig config = AgentSettings.read(environment(), new String[0]);
        // then
        assertThat(config.relays()).containsExactly(new RelayAddress("relay.porthole.svc", 7443));
        assertThat(config.forward()).isEqualTo(new ForwardRef("shop", "orders-db"));
        assertThat(config.token()).isEqualTo("secret");
        assertThat(config.targetHost()).isEqualTo("127.0.0.1");
        assertThat(config.targetPort()).isEqualTo(5432);
        assertThat(config.deadline()).isEqualTo(Instant.parse("2026-11-25T18:00:00Z"));
        assertThat(config.agentKey().chain()).isEqualTo(AGENT_KEY.chain());
        assertThat(config.agentKey().privateKey()).isEqualTo(AGENT_KEY.privateKey());
    }

    @Test
    @DisplayName("the agent certificate and key may come from files, named by variables or flags")
    void agentKeyFromFiles(@TempDir Path dir) throws Exception {
        // given
        Path cert = Files.writeString(dir.resolve("agent.pem"), AGENT_KEY.certificateChainPem());
        Path key = Files.writeString(dir.resolve("agent-key.pem"), AGENT_KEY.privateKeyPem());
        Map<String, String> env = environment();
        env.remove("PORTHOLE_AGENT_CERT_PEM");
        env.remove("PORTHOLE_AGENT_KEY_PEM");
        env.put("PORTHOLE_AGENT_CERT_FILE", cert.toString());

        // when
        AgentConfig config = AgentSettings.read(env, new String[] {"--agent-key-file", key.toString()});

        // then
        assertThat(config.agentKey().chain()).isEqualTo(AGENT_KEY.chain());
        assertThat(config.agentKey().privateKey()).isEqualTo(AGENT_KEY.privateKey());
    }

    @Test
    @DisplayName("a missing agent certificate or key is named with both of its variables")
    void missingAgentKey() {
        // given
        Map<String, String> noCert = environment();
        noCert.remove("PORTHOLE_AGENT_CERT_PEM");
        Map<String, String> noKey = environment();
        noKey.remove("PORTHOLE_AGENT_KEY_PEM");
        // when / then
        assertThatThrownBy(() -> AgentSettings.read(noCert, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessage("set PORTHOLE_AGENT_CERT_PEM or PORTHOLE_AGENT_CERT_FILE");
        assertThatThrownBy(() -> AgentSettings.read(noKey, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessage("set PORTHOLE_AGENT_KEY_PEM or PORTHOLE_AGENT_KEY_FILE");
    }

    @Test
    @DisplayName("an agent certificate for another forward is refused, naming both forwards")
    void agentCertificateForAnotherForward() {
        // given
        KeyMaterial other = agentKey("shop/payments-db");
        Map<String, String> env = environment();
        env.put("PORTHOLE_AGENT_CERT_PEM", other.certificateChainPem());
        env.put("PORTHOLE_AGENT_KEY_PEM", other.privateKeyPem());
        // when / then
        assertThatThrownBy(() -> AgentSettings.read(env, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessageContaining("agent certificate is for forward shop/payments-db, not shop/orders-db");
    }

    @Test
    @DisplayName("garbage PEM, a certificate that is no agent's or a key of another certificate is named by its variable")
    void unreadableAgentKey(@TempDir Path dir) throws Exception {
        // given
        Map<String, String> garbageCert = environment();
        garbageCert.put("PORTHOLE_AGENT_CERT_PEM", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        Map<String, String> garbageKeyFile = environment();
        garbageKeyFile.remove("PORTHOLE_AGENT_KEY_PEM");
        garbageKeyFile.put("PORTHOLE_AGENT_KEY_FILE", Files.writeString(dir.resolve("key.pem"), "not PEM at all").toString());
        Map<String, String> caAsAgent = environment();
        caAsAgent.put("PORTHOLE_AGENT_CERT_PEM", CA_PEM);
        Map<String, String> otherKey = environment();
        otherKey.put("PORTHOLE_AGENT_KEY_PEM", agentKey("shop/orders-db").privateKeyPem());
        // when / then
        assertThatThrownBy(() -> AgentSettings.read(garbageCert, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessageStartingWith("PORTHOLE_AGENT_CERT_PEM: ");
        assertThatThrownBy(() -> AgentSettings.read(garbageKeyFile, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessageStartingWith("PORTHOLE_AGENT_KEY_FILE: ");
        assertThatThrownBy(() -> AgentSettings.read(caAsAgent, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessageStartingWith("PORTHOLE_AGENT_CERT_PEM: not an agent certificate");
        assertThatThrownBy(() -> AgentSettings.read(otherKey, new String[0]))
                .isInstanceOf(AgentSettings.InvalidSettingsException.class)
                .hasMessageStartingWith("PORTHOLE_AGENT_KEY_PEM: the private key does not belong to the agent certificate");
    }

    @Test
    @DisplayName("flags override the environment")
    void flagsOverride() {
        // given / when
        AgentConfig config = AgentSettings.read(environment(),
                new String[] {"--target-port", "6379", "--target-host=10.0.0.5", "--deadline", "2026-11-25T19:00:00+01:00"});
        // then
        assertThat(config.targetPort()).isEqualTo(6379);
        assertThat(config.targetHost()).isEqualTo("10.0.0.5");
        assertThat(config.deadline()).isEqualTo(Instant.parse("2026-11-25T18:00:00Z"));
    }

    @Test
    @DisplayName("a missing token or a malformed deadline is named in the error")
    void missingOrMalformed() {
        // given
        Map<String, String> noToken = environment();
        noToken.remove("PORTHOLE_AGENT_TOKEN");
        Map<String, String> badDeadline = environment();
        badDeadline.put("PORTHOLE_DEADLINE", "tomorrow");
        // when / then
        assertThatThrownBy(() -> AgentSettings.read(noToken, new String[0]))
                .hasMessageContaining("PORTHOLE_AGENT_TOKEN or PORTHOLE_TOKEN_FILE");
        assertThatThrownBy(() -> AgentSettings.read(badDeadline, new String[0]))
                .hasMessageContaining("PORTHOLE_DEADLINE");
    }

    @Test
    @DisplayName("backoff grows exponentially with jitter up to its maximum and restarts after a reset")
    void backoff() {
        // given
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), new Random(1));
        // when
        long first = backoff.next().toMillis();
        long fourth = 0;
        for (int i = 0; i < 3; i++) {
            fourth = backoff.next().toMillis();
        }
        long capped = 0;
        for (int i = 0; i < 20; i++) {
            capped = Math.max(capped, backoff.next().toMillis());
        }
        backoff.reset();
        long afterReset = backoff.next().toMillis();
        // then
        assertThat(first).isBetween(50L, 100L);
        assertThat(fourth).isBetween(400L, 800L);
        assertThat(capped).isBetween(1000L, 2000L);
        assertThat(afterReset).isBetween(50L, 100L);
    }
}
