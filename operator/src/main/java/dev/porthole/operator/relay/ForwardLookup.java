package dev.porthole.operator.relay;

import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/** Reads a forward by "namespace/name" from the API server, so every relay decision sees its current state. */
public final class ForwardLookup {
    private final KubernetesClient client;

    public ForwardLookup(KubernetesClient client) {
        this.client = client;
    }

    public Optional<PortForward> find(String forward) {
        int slash = forward == null ? -1 : forward.indexOf('/');
        if (slash <= 0 || slash == forward.length() - 1) {
            return Optional.empty();
        }
        return Optional.ofNullable(client.resources(PortForward.class).inNamespace(forward.substring(0, slash))
                .withName(forward.substring(slash + 1)).get());
    }
}
