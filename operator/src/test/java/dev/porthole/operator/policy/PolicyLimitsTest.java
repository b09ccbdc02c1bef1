package dev.porthole.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.Exclusion;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardPolicySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Exclusions, agents per pod and session limits as the policies that govern a namespace merge them. */
class PolicyLimitsTest {

    @Test
    @DisplayName("an exclusion is lifted only when every governing policy lifts it")
    void exclusionLiftedOnlyByEveryPolicy() {
        PortForwardPolicy lifts = policy("lifts", List.of("kube-system"), List.of(Exclusion.KubeSystem, Exclusion.HostNetwork), null, null);
        PortForwardPolicy global = policy("global", null, List.of(Exclusion.HostNetwork), null, null);

        assertThat(PolicyEvaluator.effective("kube-system", List.of(lifts)).liftedExclusions())
                .containsExactlyInAnyOrder(Exclusion.KubeSystem, Exclusion.HostNetwork);
        assertThat(PolicyEvaluator.effective("kube-system", List.of(lifts, global)).liftedExclusions())
                .containsExactly(Exclusion.HostNetwork);
        assertThat(PolicyEvaluator.effective("shop", List.of(lifts)).liftedExclusions()).isEmpty();
        assertThat(EffectivePolicy.DEFAULTS.liftedExclusions()).isEmpty();
    }

    @Test
    @DisplayName("agents per pod: 4 by default, a policy may set it either way, the lowest setting wins")
    void agentsPerPod() {
        assertThat(EffectivePolicy.DEFAULTS.maxAgentsPerPod()).isEqualTo(4);
        assertThat(PolicyEvaluator.effective("shop", List.of(policy("p", null, null, 8, null))).maxAgentsPerPod()).isEqualTo(8);
        assertThat(PolicyEvaluator.effective("shop", List.of(policy("p", null, null, 8, null), policy("q", null, null, 2, null)))
                .maxAgentsPerPod()).isEqualTo(2);
        assertThat(PolicyEvaluator.effective("shop", List.of(policy("p", null, null, null, 3))).maxAgentsPerPod()).isEqualTo(4);
    }

    @Test
    @DisplayName("the policy's maxSessions limits a forward that sets none, and a forward may ask for fewer")
    void sessionLimit() {
        EffectivePolicy p = PolicyEvaluator.effective("shop", List.of(policy("p", null, null, null, 3)));

        assertThat(p.sessionLimit(null)).isEqualTo(3);
        assertThat(p.sessionLimit(2)).isEqualTo(2);
        assertThat(p.sessionLimit(50)).isEqualTo(3);
        assertThat(EffectivePolicy.DEFAULTS.sessionLimit(null)).isEqualTo(10);
    }

    private static PortForwardPolicy policy(String name, List<String> namespaces, List<Exclusion> lifts, Integer agents,
                                            Integer sessions) {
        PortForwardPolicySpec spec = new PortForwardPolicySpec();
        spec.setNamespaces(namespaces);
        spec.setLiftExclusions(lifts);
        spec.setMaxAgentsPerPod(agents);
        spec.setMaxSessions(sessions);
        PortForwardPolicy p = new PortForwardPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName(name).build());
        p.setSpec(spec);
        return p;
    }
}
