package dev.porthole.operator.relay;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.protocol.ForwardRef;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/** Reads a forward from the API server, so every relay decision sees its current state. */
public final class ForwardLookup {
    private final KubernetesClient client;

    public ForwardLookup(KubernetesClient client) {
        this.client = client;
    }

    public Optional<PortForward> find(ForwardRef forward) {
        return Optional.ofNullable(client.resources(PortForward.class).inNamespace(forward.namespace())
                .withName(forward.name()).get());
    }

    /** The forward a text such as an annotation names: empty when it names none or is not {@code NAMESPACE/NAME}. */
    public Optional<PortForward> find(String forward) {
        try {
            return forward == null ? Optional.empty() : find(ForwardRef.parse(forward));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
