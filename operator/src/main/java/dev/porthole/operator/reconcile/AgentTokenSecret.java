package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import java.security.SecureRandom;
import dev.porthole.operator.access.AgentTokenHash;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The per-forward agent token: 256 random bits, created once and never rewritten (the agent already
 * holds it), owned by the forward so the garbage collector removes it with the forward. Its informer watches
 * only Secrets labelled as Porthole's, so the operator never caches the cluster's other Secrets.
 */
public class AgentTokenSecret extends KubernetesDependentResource<Secret, PortForward>
        implements Creator<Secret, PortForward>, GarbageCollected<PortForward> {
    public static final String TOKEN_KEY = "token";
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String PORTHOLE = "porthole";
    private static final SecureRandom RANDOM = new SecureRandom();

    public AgentTokenSecret() {
        super(Secret.class);
    }

    /** The dependent as the forward workflow uses it: its informer sees only Secrets labelled as Porthole's. */
    static AgentTokenSecret labelSelected() {
        AgentTokenSecret secret = new AgentTokenSecret();
        secret.configureWith(new KubernetesDependentResourceConfigBuilder<Secret>()
                .withKubernetesDependentInformerConfig(InformerConfiguration.builder(Secret.class)
                        .withLabelSelector(MANAGED_BY + "=" + PORTHOLE)
                        .build())
                .build());
        return secret;
    }

    @Override
    public String name() {
        return "agent-token";
    }

    /** The lowercase hex SHA-256 of the token {@code secret} holds (as the API server returns it: base64 in data). */
    static String tokenSha256(Secret secret) {
        String encoded = secret.getData() == null ? null : secret.getData().get(TOKEN_KEY);
        byte[] token = encoded != null ? Base64.getDecoder().decode(encoded)
                : secret.getStringData().get(TOKEN_KEY).getBytes(StandardCharsets.UTF_8);
        return AgentTokenHash.of(token);
    }

    public static String nameFor(PortForward pf) {
        return "porthole-agent-" + pf.getMetadata().getUid();
    }

    /** The owner reference does the deleting: the garbage collector removes the Secret with its forward. */
    @Override
    public void delete(PortForward primary, Context<PortForward> context) {
        // nothing to do here
    }

    @Override
    protected Secret desired(PortForward pf, Context<PortForward> context) {
        byte[] token = new byte[32];
        RANDOM.nextBytes(token);
        return new SecretBuilder()
                .withNewMetadata()
                .withName(nameFor(pf))
                .withNamespace(pf.getMetadata().getNamespace())
                .addToLabels(MANAGED_BY, PORTHOLE)
                .addToLabels("porthole.dev/forward", pf.getMetadata().getName())
                .endMetadata()
                .withType("Opaque")
                .addToStringData(TOKEN_KEY, Base64.getUrlEncoder().withoutPadding().encodeToString(token))
                .build();
    }
}
