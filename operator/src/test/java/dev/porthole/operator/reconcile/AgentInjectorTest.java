package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.RelayEndpoints;
import dev.porthole.operator.support.Forwards;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentInjectorTest {
    private static final RelayEndpoints RELAY = new RelayEndpoints("porthole-relay.porthole-system.svc:7443",
            "porthole-relay.example.com:443", "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");

    @Test
    @DisplayName("the agent's token, certificate and key come from the forward's Secret by reference, never inline")
    void credentialsFromSecret() {
        // given
        PortForward pf = Forwards.toPod("shop", "orders-db-debug", "orders-db-0", 5432, "30m");
        pf.getMetadata().setUid("7f1a34e1-0c2d-4e5f-8a9b-0123456789ab");
        ResolvedTarget target = new ResolvedTarget(new PodBuilder().withNewMetadata().withName("orders-db-0")
                .endMetadata().build(), 5432);

        // when
        Map<String, EnvVar> env = new AgentInjector(null, "porthole-agent:test", RELAY)
                .agentContainer(pf, target, AgentInjector.containerName(pf), Instant.parse("2026-12-02T10:30:00Z"))
                .getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));

        // then
        assertThat(secretRef(env, "PORTHOLE_AGENT_TOKEN")).isEqualTo(ref(pf, AgentTokenSecret.TOKEN_KEY));
        assertThat(secretRef(env, "PORTHOLE_AGENT_CERT_PEM")).isEqualTo(ref(pf, "tls.crt"));
        assertThat(secretRef(env, "PORTHOLE_AGENT_KEY_PEM")).isEqualTo(ref(pf, "tls.key"));
        assertThat(env.get("PORTHOLE_AGENT_CERT_PEM").getValue()).isNull();
        assertThat(env.get("PORTHOLE_AGENT_KEY_PEM").getValue()).isNull();
    }

    private static SecretKeySelector secretRef(Map<String, EnvVar> env, String name) {
        assertThat(env).containsKey(name);
        return env.get(name).getValueFrom().getSecretKeyRef();
    }

    private static SecretKeySelector ref(PortForward pf, String key) {
        return new SecretKeySelector(key, AgentTokenSecret.nameFor(pf), null);
    }
}
