package dev.porthole.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardPolicySpec;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.api.v1alpha1.Target;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PolicyEvaluatorTest {

    @Test
    @DisplayName("with no policy the defaults apply: 8h, Loopback only, reason optional")
    void defaults() {
        assertThat(PolicyEvaluator.effective("shop", List.of())).isEqualTo(EffectivePolicy.DEFAULTS);
        assertThat(PolicyEvaluator.violations(spec("8h", BindScope.Loopback), 5432, EffectivePolicy.DEFAULTS)).isEmpty();
        assertThat(PolicyEvaluator.violations(spec("9h", BindScope.Loopback), 5432, EffectivePolicy.DEFAULTS))
                .containsExactly("ttl 9h exceeds the policy maximum of 8h");
    }

    @Test
    @DisplayName("every matching policy applies and the strictest value of each setting wins")
    void strictestWins() {
        // given
        PortForwardPolicy wide = policy(null, "4h", List.of(BindScope.Loopback, BindScope.Cluster), List.of(5432, 6379), false, 8);
        PortForwardPolicy shop = policy(List.of("shop"), "1h", List.of(BindScope.Cluster, BindScope.Public), List.of(5432), true, 20);
        PortForwardPolicy other = policy(List.of("other"), "1m", List.of(), List.of(), true, 1);

        // when
        EffectivePolicy p = PolicyEvaluator.effective("shop", List.of(wide, shop, other));

        // then
        assertThat(p.maxTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(p.allowedBindScopes()).containsExactly(BindScope.Cluster);
        assertThat(p.allowedPorts()).containsExactly(5432);
        assertThat(p.requireReason()).isTrue();
        assertThat(p.maxSessions()).isEqualTo(8);
    }

    @Test
    @DisplayName("each violation is named in words a user can act on")
    void namesEachViolation() {
        // given
        EffectivePolicy p = new EffectivePolicy(Duration.ofHours(1), Set.of(BindScope.Loopback, BindScope.Public), Set.of(5432), true, 2, false, Set.of(), 4);
        PortForwardSpec s = spec("2h", BindScope.Public);
        s.setSourceRanges(List.of("0.0.0.0/0"));
        s.setMaxSessions(5);
        s.setReason(" ");

        // then
        assertThat(PolicyEvaluator.violations(s, 22, p)).containsExactly(
                "ttl 2h exceeds the policy maximum of 1h",
                "target port 22 is not allowed by policy (allowed: [5432])",
                "policy requires spec.reason (for example an incident id)",
                "maxSessions 5 exceeds the policy maximum of 2",
                "sourceRanges 0.0.0.0/0 opens the forward to every address; policy does not allow it");
    }

    private static PortForwardSpec spec(String ttl, BindScope scope) {
        PortForwardSpec s = new PortForwardSpec();
        s.setTarget(Target.pod("db-0", new IntOrString(5432)));
        s.setAudience(Audience.users("alice"));
        s.setTtl(ttl);
        s.setBindScope(scope);
        return s;
    }

    private static PortForwardPolicy policy(List<String> namespaces, String maxTtl, List<BindScope> scopes, List<Integer> ports,
                                            boolean requireReason, int maxSessions) {
        PortForwardPolicy p = new PortForwardPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("p" + System.nanoTime()).build());
        PortForwardPolicySpec s = new PortForwardPolicySpec();
        s.setNamespaces(namespaces);
        s.setMaxTtl(maxTtl);
        s.setAllowedBindScopes(scopes);
        s.setAllowedPorts(ports);
        s.setRequireReason(requireReason);
        s.setMaxSessions(maxSessions);
        p.setSpec(s);
        return p;
    }
}
