package dev.porthole.operator.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.Exclusion;
import dev.porthole.operator.policy.EffectivePolicy;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DefaultExclusionsTest {
    private final DefaultExclusions exclusions = new DefaultExclusions("porthole-system", "porthole-7d9f-abcde");

    @Test
    @DisplayName("kube-system and the operator's namespace are refused by default, each with its own message")
    void namespaces() {
        assertThat(exclusions.forNamespace("kube-system", EffectivePolicy.DEFAULTS)).singleElement().asString()
                .startsWith("namespace kube-system is excluded by default").contains("lift KubeSystem");
        assertThat(exclusions.forNamespace("porthole-system", EffectivePolicy.DEFAULTS)).singleElement().asString()
                .contains("the Porthole operator's own").contains("lift OperatorNamespace");
        assertThat(exclusions.forNamespace("shop", EffectivePolicy.DEFAULTS)).isEmpty();
    }

    @Test
    @DisplayName("hostNetwork pods and Porthole's own pods are refused by default")
    void pods() {
        assertThat(exclusions.forPod(pod("shop", "node-exporter", true, Map.of()), EffectivePolicy.DEFAULTS)).singleElement()
                .asString().contains("uses hostNetwork, so its 127.0.0.1 is the node's loopback").contains("lift HostNetwork");
        assertThat(exclusions.forPod(pod("tools", "relay-0", false, Map.of("app.kubernetes.io/part-of", "porthole")),
                EffectivePolicy.DEFAULTS)).singleElement().asString().contains("one of Porthole's own").contains("lift PortholePods");
        assertThat(exclusions.forPod(pod("porthole-system", "porthole-7d9f-abcde", false, Map.of()), EffectivePolicy.DEFAULTS))
                .singleElement().asString().contains("one of Porthole's own");
        assertThat(exclusions.forPod(pod("shop", "db-0", false, Map.of("app", "db")), EffectivePolicy.DEFAULTS)).isEmpty();
    }

    @Test
    @DisplayName("a policy that lifts an exclusion by name lifts that one only")
    void lifted() {
        EffectivePolicy liftsHostNetwork = new EffectivePolicy(Duration.ofHours(1), EffectivePolicy.DEFAULTS.allowedBindScopes(),
                Set.of(), false, 10, false, Set.of(Exclusion.HostNetwork, Exclusion.KubeSystem), 4);
        Pod both = pod("kube-system", "kube-proxy", true, Map.of("app.kubernetes.io/part-of", "porthole"));

        assertThat(exclusions.forNamespace("kube-system", liftsHostNetwork)).isEmpty();
        assertThat(exclusions.forPod(both, liftsHostNetwork)).singleElement().asString().contains("Porthole's own");
    }

    private static Pod pod(String ns, String name, boolean hostNetwork, Map<String, String> labels) {
        return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withHostNetwork(hostNetwork).endSpec().build();
    }
}
