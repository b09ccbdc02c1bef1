package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.AgentStatus;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.api.v1alpha1.RelayEndpoint;
import dev.porthole.api.v1alpha1.SessionStats;
import dev.porthole.operator.relay.ForwardActivity;
import dev.porthole.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;

/**
 * A forward's whole status from one pass's {@link Verdict}, what the relay sees of its agent, and the time: every
 * condition the verdict decides is written, consistently (a rejected forward is never {@code AgentConnected}), and
 * {@code lastTransitionTime} only moves when a condition flips. What the pass did not look at (the creator, when policy
 * already refused; where the agent ran, when the target is gone) is carried over from the status before.
 */
public final class StatusBuilder {
    private StatusBuilder() {
    }

    public static PortForwardStatus build(PortForwardStatus old, Verdict verdict, ForwardActivity.Snapshot seen,
                                          RelayEndpoint relay, Instant expiresAt, Long generation, Instant now) {
        return build(old, verdict, seen, relay, expiresAt, generation, now, null);
    }

    /**
     * {@code agentTokenSha256}: the hash of the agent token the relay is to accept, published only for an Active
     * forward (a forward in any other phase has no agent the relay should let in).
     */
    public static PortForwardStatus build(PortForwardStatus old, Verdict verdict, ForwardActivity.Snapshot seen,
                                          RelayEndpoint relay, Instant expiresAt, Long generation, Instant now,
                                          String agentTokenSha256) {
        PortForwardStatus s = new PortForwardStatus();
        s.setExpiresAt(expiresAt.toString());
        s.setObservedGeneration(generation);
        s.setTarget(old.getTarget());
        if (old.getAgent() != null) {
            s.setAgent(new AgentStatus(old.getAgent().getPod(), old.getAgent().getContainer(),
                    old.getAgent().getConnectedAt()));
        }
        s.setRelay(old.getRelay());
        s.setSessions(old.getSessions());
        Conds c = new Conds(old.getConditions(), generation, now);
        if (verdict instanceof Verdict.PolicyViolation v) {
            rejected(s, c, v.message(), "Rejected");
            c.set(Conditions.POLICY_COMPLIANT, false, "PolicyViolation", v.message());
        } else if (verdict instanceof Verdict.CreatorRefused v) {
            rejected(s, c, v.message(), v.reason());
            c.set(Conditions.CREATOR_AUTHORIZED, false, v.reason(), v.message());
        } else if (verdict instanceof Verdict.Unavailable v) {
            s.setPhase(Phase.Failed);
            s.setMessage(v.message());
            c.set(Conditions.READY, false, v.reason().name(), v.message());
            c.set(Conditions.AGENT_CONNECTED, false, v.reason().name(), v.message());
            if (v.checksPassed()) {
                c.set(Conditions.POLICY_COMPLIANT, true, "Compliant", "forward complies with policy");
            }
        } else if (verdict instanceof Verdict.Active v) {
            active(s, c, v, old.getAgent(), seen, relay, expiresAt);
            s.getAgent().setTokenSha256(agentTokenSha256);
        }
        s.setConditions(c.list);
        return s;
    }

    private static void rejected(PortForwardStatus s, Conds c, String message, String reason) {
        s.setPhase(Phase.Rejected);
        s.setMessage(message);
        c.set(Conditions.READY, false, reason, message);
        c.set(Conditions.AGENT_CONNECTED, false, reason, message);
    }

    private static void active(PortForwardStatus s, Conds c, Verdict.Active v, AgentStatus previous,
                               ForwardActivity.Snapshot seen, RelayEndpoint relay, Instant expiresAt) {
        String pod = v.target().podName();
        String container = v.agent().container();
        boolean sameAgent = previous != null && pod.equals(previous.getPod()) && container.equals(previous.getContainer());
        String connectedAt = seen.agentConnected() && seen.agentConnectedAt() != null ? seen.agentConnectedAt().toString()
                : sameAgent ? previous.getConnectedAt() : null;
        s.setPhase(Phase.Active);
        s.setMessage("forwarding to " + v.target().describe() + " until " + expiresAt);
        s.setTarget(v.target().describe());
        s.setAgent(new AgentStatus(pod, container, connectedAt));
        s.setRelay(relay);
        s.setSessions(sessions(seen));
        c.set(Conditions.POLICY_COMPLIANT, true, "Compliant", "forward complies with policy");
        c.set(Conditions.CREATOR_AUTHORIZED, true, "Authorized", v.creator() + " may port-forward to pod " + pod);
        c.set(Conditions.READY, true, "AgentInjected", "agent runs in pod " + pod);
        if (seen.agentConnected()) {
            c.set(Conditions.AGENT_CONNECTED, true, "Connected", "agent in pod " + pod + " is connected to the relay");
        } else {
            c.set(Conditions.AGENT_CONNECTED, false, "WaitingForAgent", "waiting for the agent in pod " + pod + " to dial the relay");
        }
    }

    private static SessionStats sessions(ForwardActivity.Snapshot seen) {
        SessionStats stats = new SessionStats();
        stats.setActive(seen.active());
        stats.setTotal(seen.total());
        stats.setBytesIn(seen.bytesIn());
        stats.setBytesOut(seen.bytesOut());
        return stats;
    }

    /** The conditions being built, starting from the old ones (their transition times). */
    private static final class Conds {
        private List<Condition> list;
        private final Long generation;
        private final Instant now;

        Conds(List<Condition> old, Long generation, Instant now) {
            this.list = old == null ? List.of() : List.copyOf(old);
            this.generation = generation;
            this.now = now;
        }

        void set(String type, boolean value, String reason, String message) {
            list = Conditions.set(list, type, value, reason, message, generation, now);
        }
    }
}
