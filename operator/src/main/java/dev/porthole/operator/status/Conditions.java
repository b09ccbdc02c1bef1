package dev.porthole.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Sets a condition on a list the Kubernetes way: {@code lastTransitionTime} moves only when the
 * status flips, so watchers see when a state began, not when it was last confirmed.
 */
public final class Conditions {
    public static final String READY = "Ready";
    public static final String AGENT_CONNECTED = "AgentConnected";
    public static final String POLICY_COMPLIANT = "PolicyCompliant";
    /** The creator is verified and may themselves port-forward to the target (and no default exclusion applies). */
    public static final String CREATOR_AUTHORIZED = "CreatorAuthorized";

    private Conditions() {
    }

    public static List<Condition> set(List<Condition> current, String type, boolean status, String reason,
                                      String message, Long generation, Instant now) {
        List<Condition> out = new ArrayList<>(current == null ? List.of() : current);
        Optional<Condition> existing = out.stream().filter(c -> type.equals(c.getType())).findFirst();
        String statusText = status ? "True" : "False";
        String since = existing.filter(c -> statusText.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime)
                .orElse(now.toString());
        existing.ifPresent(out::remove);
        out.add(new ConditionBuilder().withType(type).withStatus(statusText).withReason(reason).withMessage(message)
                .withObservedGeneration(generation).withLastTransitionTime(since).build());
        out.sort(java.util.Comparator.comparing(Condition::getType));
        return out;
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty()
                : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }
}
