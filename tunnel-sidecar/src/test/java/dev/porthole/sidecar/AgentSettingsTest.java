package dev.porthole.sidecar;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.pki.CertificateAuthority;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentSettingsTest {

    private static final String CA_PEM = CertificateAuthority.create("ca", Duration.ofDays(1)).keyMaterial()
            .certificateChainPem();

    private static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("PORTHOLE_RELAY_ADDRESS", "relay.porthole.svc:7443");
        env.put("PORTHOLE_FORWARD", "shop/orders-db");
        env.put("PORTHOLE_AGENT_TOKEN", "secret");
        env.put("PORTHOLE_CA_PEM", CA_PEM);
        env.put("PORTHOLE_TARGET_PORT", "5432");
        env.put("PORTHOLE_DEADLINE", "2026-11-25T18:00:00Z");
        return env;
    }

    @Test
    @DisplayName("the operator's environment variables configure the agent, target host defaulting to loopback")
    void readsEnvironment() {
        // given / when
        AgentConfig config = AgentSettings.read(environment(), new String[0]);
        // then
        assertThat(config.relayHost()).isEqualTo("relay.porthole.svc");
        assertThat(config.relayPort()).isEqualTo(7443);
        assertThat(config.forward()).isEqualTo(new ForwardRef("shop", "orders-db"));
        assertThat(config.token()).isEqualTo("secret");
        assertThat(config.targetHost()).isEqualTo("127.0.0.1");
        assertThat(config.targetPort()).isEqualTo(5432);
        assertThat(config.deadline()).isEqualTo(Instant.parse("2026-11-25T18:00:00Z"));
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
