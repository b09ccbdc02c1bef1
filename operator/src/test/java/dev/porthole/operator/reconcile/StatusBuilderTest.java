package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.AgentStatus;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.api.v1alpha1.RelayEndpoint;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.relay.ForwardActivity;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The whole status from a verdict, with a fixed clock: what each verdict writes, and what it carries over. */
class StatusBuilderTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final Instant T1 = T0.plusSeconds(30);
    private static final Instant EXPIRES = T0.plusSeconds(600);
    private static final RelayEndpoint RELAY = new RelayEndpoint("relay.example:7444", "CA");
    private static final ForwardActivity.Snapshot CONNECTED = new ForwardActivity.Snapshot(true, T0, 1, 5, 100, 200);
    private static final ForwardActivity.Snapshot NOTHING = new ForwardActivity.Snapshot(false, null, 0, 0, 0, 0);
    private static final Verdict.Active ACTIVE = new Verdict.Active(
            new ResolvedTarget(new PodBuilder().withNewMetadata().withName("db-0").endMetadata().build(), 5432),
            new AgentLifecycle.Keep("porthole-agent-7f1a34e1"), "alice");

    @Test
    @DisplayName("Active: all four conditions true, agent, target, relay and sessions written")
    void active() {
        PortForwardStatus s = StatusBuilder.build(new PortForwardStatus(), ACTIVE, CONNECTED, RELAY, EXPIRES, 1L, T0);

        assertThat(s.getPhase()).isEqualTo(Phase.Active);
        assertThat(s.getMessage()).isEqualTo("forwarding to pod/db-0:5432 until " + EXPIRES);
        assertThat(statuses(s)).isEqualTo(Map.of("PolicyCompliant", "True", "CreatorAuthorized", "True", "Ready", "True",
                "AgentConnected", "True"));
        assertThat(s.getAgent().getContainer()).isEqualTo("porthole-agent-7f1a34e1");
        assertThat(s.getAgent().getConnectedAt()).isEqualTo(T0.toString());
        assertThat(s.getRelay()).isSameAs(RELAY);
        assertThat(s.getSessions().getTotal()).isEqualTo(5);
        assertThat(s.getExpiresAt()).isEqualTo(EXPIRES.toString());
        assertThat(s.getObservedGeneration()).isEqualTo(1L);
    }

    @Test
    @DisplayName("a pass that changes nothing keeps every lastTransitionTime; a flip moves only the flipped one")
    void transitionTimesMoveOnlyOnFlips() {
        PortForwardStatus first = StatusBuilder.build(new PortForwardStatus(), ACTIVE, NOTHING, RELAY, EXPIRES, 1L, T0);

        PortForwardStatus same = StatusBuilder.build(first, ACTIVE, NOTHING, RELAY, EXPIRES, 1L, T1);
        PortForwardStatus connected = StatusBuilder.build(same, ACTIVE, CONNECTED, RELAY, EXPIRES, 1L, T1);

        assertThat(times(same).values()).containsOnly(T0.toString());
        assertThat(times(connected)).containsEntry("AgentConnected", T1.toString()).containsEntry("Ready", T0.toString());
    }

    @Test
    @DisplayName("rejected by policy: never AgentConnected, the creator's condition carried over, the agent still named")
    void policyViolationAfterActive() {
        PortForwardStatus active = StatusBuilder.build(new PortForwardStatus(), ACTIVE, CONNECTED, RELAY, EXPIRES, 1L, T0);

        PortForwardStatus s = StatusBuilder.build(active, new Verdict.PolicyViolation("ttl 2h exceeds the policy maximum of 1h"),
                CONNECTED, RELAY, EXPIRES, 1L, T1);

        assertThat(s.getPhase()).isEqualTo(Phase.Rejected);
        assertThat(s.getMessage()).isEqualTo("ttl 2h exceeds the policy maximum of 1h");
        assertThat(statuses(s)).isEqualTo(Map.of("PolicyCompliant", "False", "CreatorAuthorized", "True", "Ready", "False",
                "AgentConnected", "False"));
        assertThat(reason(s, "Ready")).isEqualTo("Rejected");
        assertThat(s.getAgent()).isEqualTo(new AgentStatus("db-0", "porthole-agent-7f1a34e1", T0.toString()));
    }

    @Test
    @DisplayName("the agent token's hash is published while Active and withdrawn when the forward stops being Active")
    void tokenHashOnlyWhileActive() {
        PortForwardStatus active = StatusBuilder.build(new PortForwardStatus(), ACTIVE, CONNECTED, RELAY, EXPIRES, 1L, T0,
                "9f86d081884c7d65");

        PortForwardStatus rejected = StatusBuilder.build(active, new Verdict.PolicyViolation("port 22 is not allowed"),
                CONNECTED, RELAY, EXPIRES, 2L, T1, "9f86d081884c7d65");
        PortForwardStatus failed = StatusBuilder.build(active, new Verdict.Unavailable(AuditReason.TargetUnavailable,
                "pod db-0 is not Ready", false), NOTHING, RELAY, EXPIRES, 1L, T1, "9f86d081884c7d65");

        assertThat(active.getAgent().getTokenSha256()).isEqualTo("9f86d081884c7d65");
        assertThat(rejected.getAgent().getTokenSha256()).isNull();
        assertThat(failed.getAgent().getTokenSha256()).isNull();
        assertThat(active.getAgent().getTokenSha256()).as("the old status is not edited").isEqualTo("9f86d081884c7d65");
    }

    @Test
    @DisplayName("a refused creator: CreatorAuthorized false with the reason, Ready and AgentConnected false")
    void creatorRefused() {
        PortForwardStatus s = StatusBuilder.build(new PortForwardStatus(),
                new Verdict.CreatorRefused("CreatorNotAuthorized", "bob may not create pods/portforward"), NOTHING, RELAY, EXPIRES, 2L, T0);

        assertThat(s.getPhase()).isEqualTo(Phase.Rejected);
        assertThat(statuses(s)).isEqualTo(Map.of("CreatorAuthorized", "False", "Ready", "False", "AgentConnected", "False"));
        assertThat(reason(s, "CreatorAuthorized")).isEqualTo("CreatorNotAuthorized");
        assertThat(s.getConditions()).allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(2L));
    }

    @Test
    @DisplayName("unavailable after every check passed (agent limit) says policy passed; a missing target leaves it as it was")
    void unavailable() {
        PortForwardStatus limit = StatusBuilder.build(new PortForwardStatus(),
                new Verdict.Unavailable(AuditReason.AgentLimitReached, "pod db-0 already runs 4 live Porthole agents", true),
                NOTHING, RELAY, EXPIRES, 1L, T0);
        PortForwardStatus gone = StatusBuilder.build(new PortForwardStatus(),
                new Verdict.Unavailable(AuditReason.TargetUnavailable, "pod db-0 does not exist in namespace shop", false),
                NOTHING, RELAY, EXPIRES, 1L, T0);

        assertThat(limit.getPhase()).isEqualTo(Phase.Failed);
        assertThat(statuses(limit)).isEqualTo(Map.of("PolicyCompliant", "True", "Ready", "False", "AgentConnected", "False"));
        assertThat(reason(limit, "Ready")).isEqualTo("AgentLimitReached");
        assertThat(statuses(gone)).isEqualTo(Map.of("Ready", "False", "AgentConnected", "False"));
        assertThat(gone.getMessage()).isEqualTo("pod db-0 does not exist in namespace shop");
    }

    @Test
    @DisplayName("a replaced agent is a new agent: its connectedAt is not the old one's")
    void replacedAgentStartsUnconnected() {
        PortForwardStatus first = StatusBuilder.build(new PortForwardStatus(), ACTIVE, CONNECTED, RELAY, EXPIRES, 1L, T0);
        Verdict.Active replaced = new Verdict.Active(ACTIVE.target(), new AgentLifecycle.Replace("porthole-agent-7f1a34e1-1",
                "porthole-agent-7f1a34e1", "ended", 1), "alice");

        PortForwardStatus s = StatusBuilder.build(first, replaced, NOTHING, RELAY, EXPIRES, 1L, T1);

        assertThat(s.getAgent()).isEqualTo(new AgentStatus("db-0", "porthole-agent-7f1a34e1-1", null));
        assertThat(statuses(s)).containsEntry("AgentConnected", "False");
    }

    private static Map<String, String> statuses(PortForwardStatus s) {
        return s.getConditions().stream().collect(Collectors.toMap(Condition::getType, Condition::getStatus));
    }

    private static Map<String, String> times(PortForwardStatus s) {
        return s.getConditions().stream().collect(Collectors.toMap(Condition::getType, Condition::getLastTransitionTime));
    }

    private static String reason(PortForwardStatus s, String type) {
        return s.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow().getReason();
    }
}
