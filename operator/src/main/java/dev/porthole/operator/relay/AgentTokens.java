package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.reconcile.AgentTokenSecret;
import dev.porthole.relay.AgentAuthenticator;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Function;

/** Accepts an agent only with its forward's current token, compared in constant time, while the forward is live. */
public final class AgentTokens implements AgentAuthenticator {
    private final KubernetesClient client;
    private final Function<ForwardRef, Optional<PortForward>> forwards;

    public AgentTokens(KubernetesClient client, Function<ForwardRef, Optional<PortForward>> forwards) {
        this.client = client;
        this.forwards = forwards;
    }

    @Override
    public boolean authenticate(ForwardRef forward, String token) {
        if (token == null || token.isEmpty()) {
            return false;
        }
        Optional<PortForward> pf = forwards.apply(forward);
        if (pf.isEmpty() || pf.get().getMetadata().getDeletionTimestamp() != null) {
            return false;
        }
        Secret secret = client.secrets().inNamespace(pf.get().getMetadata().getNamespace())
                .withName(AgentTokenSecret.nameFor(pf.get())).get();
        if (secret == null || secret.getData() == null || secret.getData().get(AgentTokenSecret.TOKEN_KEY) == null) {
            return false;
        }
        byte[] expected = Base64.getDecoder().decode(secret.getData().get(AgentTokenSecret.TOKEN_KEY));
        return MessageDigest.isEqual(expected, token.getBytes(StandardCharsets.UTF_8));
    }
}
