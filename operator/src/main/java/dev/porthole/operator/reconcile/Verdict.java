package dev.porthole.operator.reconcile;

import dev.porthole.operator.audit.AuditReason;

/** What one reconcile pass concluded about a live (not yet expired) forward, in the order it checks. */
public sealed interface Verdict {
    /** Policy refuses the forward; nothing is injected, live sessions are cut. */
    record PolicyViolation(String message) implements Verdict {
    }

    /**
     * Its creator is unverified, hits a default exclusion or may not port-forward to the target;
     * {@code reason} is CreatorUnverified or CreatorNotAuthorized.
     */
    record CreatorRefused(String reason, String message) implements Verdict {
    }

    /**
     * Its target or agent is unavailable (retried): {@code reason} is TargetUnavailable, AgentLimitReached or
     * AgentFailed. {@code checksPassed}: policy and creator were fully checked and passed (they are only partly
     * checked before the target is resolved).
     */
    record Unavailable(AuditReason reason, String message, boolean checksPassed) implements Verdict {
    }

    /** Everything allows it: the agent {@code agent} serves it in {@code target}. */
    record Active(ResolvedTarget target, AgentLifecycle.Plan agent, String creator) implements Verdict {
    }
}
