package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.AgentTokenHash;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.time.Expiry;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * The per-forward agent credentials: the agent token (256 random bits, which the agent shows the relay) and the agent
 * certificate with its key (which the agent presents to clients at the end-to-end TLS handshake), issued by the
 * operator's CA for the forward's name and uid until the forward's expiry. Created once and never rewritten (the
 * agent already holds them; a forward's expiry can only move earlier, so its certificate never ends before it does),
 * owned by the forward so the garbage collector removes it with the forward. Its informer watches only Secrets
 * labelled as Porthole's, so the operator never caches the cluster's other Secrets.
 */
public class AgentTokenSecret extends KubernetesDependentResource<Secret, PortForward>
        implements Creator<Secret, PortForward>, GarbageCollected<PortForward> {
    public static final String TOKEN_KEY = "token";
    /** The agent certificate chain (leaf first), PEM. */
    public static final String CERT_KEY = "tls.crt";
    /** The agent certificate's private key, PKCS#8 PEM. */
    public static final String KEY_KEY = "tls.key";
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    static final String PORTHOLE = "porthole";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CertificateAuthority ca;

    /** Issues agent certificates from {@code ca}, the operator's CA (the one clients trust for the agent's). */
    public AgentTokenSecret(CertificateAuthority ca) {
        super(Secret.class);
        this.ca = Objects.requireNonNull(ca, "ca");
    }

    /** The dependent as the forward workflow uses it: its informer sees only Secrets labelled as Porthole's. */
    static AgentTokenSecret labelSelected(CertificateAuthority ca) {
        AgentTokenSecret secret = new AgentTokenSecret(ca);
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
        // the deadline the agent is given is this same expiry, so the certificate lasts as long as any agent of it
        KeyMaterial agentKey = ca.issueAgentCertificate(
                new AgentIdentity(ForwardRefs.of(pf), pf.getMetadata().getUid(), Expiry.of(pf)));
        return new SecretBuilder()
                .withNewMetadata()
                .withName(nameFor(pf))
                .withNamespace(pf.getMetadata().getNamespace())
                .addToLabels(MANAGED_BY, PORTHOLE)
                .addToLabels("porthole.dev/forward", pf.getMetadata().getName())
                .endMetadata()
                .withType("Opaque")
                .addToStringData(TOKEN_KEY, Base64.getUrlEncoder().withoutPadding().encodeToString(token))
                .addToStringData(CERT_KEY, agentKey.certificateChainPem())
                .addToStringData(KEY_KEY, agentKey.privateKeyPem())
                .build();
    }
}
