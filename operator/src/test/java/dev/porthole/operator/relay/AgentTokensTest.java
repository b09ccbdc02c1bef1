package dev.porthole.operator.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.AgentStatus;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.operator.access.AgentTokenHash;
import dev.porthole.protocol.ForwardRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The relay checks an agent against the hash the operator published, never against a Secret. */
class AgentTokensTest {
    private static final ForwardRef DB = new ForwardRef("shop", "db");
    private static final String TOKEN = "q8Xh2v0J3o7d5Vh0y9mR1kY3tPZs5w6bQe4nL2uA8cE";
    private static final String HASH = AgentTokenHash.of(TOKEN.getBytes(StandardCharsets.UTF_8));

    @Test
    @DisplayName("an Active forward's agent with the token whose hash is published is accepted")
    void accepted() {
        assertThat(tokens(forward(Phase.Active, HASH, false)).authenticate(DB, TOKEN)).isTrue();
    }

    @Test
    @DisplayName("a wrong, empty or missing token, another forward, no hash, a forward not Active or being deleted: refused")
    void refused() {
        assertThat(tokens(forward(Phase.Active, HASH, false)).authenticate(DB, TOKEN + "x")).isFalse();
        assertThat(tokens(forward(Phase.Active, HASH, false)).authenticate(DB, "")).isFalse();
        assertThat(tokens(forward(Phase.Active, HASH, false)).authenticate(DB, null)).isFalse();
        assertThat(tokens(forward(Phase.Active, HASH, false)).authenticate(new ForwardRef("shop", "cache"), TOKEN))
                .isFalse();
        assertThat(tokens(forward(Phase.Active, null, false)).authenticate(DB, TOKEN)).isFalse();
        assertThat(tokens(forward(Phase.Rejected, HASH, false)).authenticate(DB, TOKEN)).isFalse();
        assertThat(tokens(forward(Phase.Failed, HASH, false)).authenticate(DB, TOKEN)).isFalse();
        assertThat(tokens(forward(Phase.Active, HASH, true)).authenticate(DB, TOKEN)).isFalse();
        assertThat(tokens(new PortForward()).authenticate(DB, TOKEN)).as("no status yet").isFalse();
        assertThat(tokens(forward(Phase.Active, HASH.toUpperCase(), false)).authenticate(DB, TOKEN))
                .as("the hash is compared exactly as published").isFalse();
    }

    private static AgentTokens tokens(PortForward pf) {
        return new AgentTokens(ref -> ref.equals(DB) ? Optional.of(pf) : Optional.empty());
    }

    private static PortForward forward(Phase phase, String hash, boolean deleting) {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("db")
                .withDeletionTimestamp(deleting ? "2026-12-02T04:00:00Z" : null).build());
        PortForwardStatus status = new PortForwardStatus();
        status.setPhase(phase);
        AgentStatus agent = new AgentStatus("db-0", "porthole-agent-1", null);
        agent.setTokenSha256(hash);
        status.setAgent(agent);
        pf.setStatus(status);
        return pf;
    }
}
