package dev.porthole.operator.support;

import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.api.v1alpha1.PortForwardPolicySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;
import java.util.function.Consumer;

/** PortForwardPolicies for tests: one namespace, the settings a test cares about. */
public final class Policies {
    private Policies() {
    }

    public static PortForwardPolicy governing(String name, String namespace, Consumer<PortForwardPolicySpec> settings) {
        PortForwardPolicy policy = new PortForwardPolicy();
        policy.setMetadata(new ObjectMetaBuilder().withName(name).build());
        PortForwardPolicySpec spec = new PortForwardPolicySpec();
        spec.setNamespaces(List.of(namespace));
        settings.accept(spec);
        policy.setSpec(spec);
        return policy;
    }
}
