package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificationRequests;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestBuilder;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Gets a client certificate the Kubernetes way: a key pair made in memory (the private key never leaves
 * this process), a CertificateSigningRequest for signer {@code porthole.dev/client} created with the
 * user's own kubeconfig (so every authentication method works), and the certificate Porthole's operator
 * signs once it has checked the identity the API server stamped on the request. A denial comes back
 * with the operator's reason.
 */
public final class KubernetesCsrCertificateSource implements CertificateSource {
    public static final String SIGNER = "porthole.dev/client";
    public static final String FORWARD_ANNOTATION = "porthole.dev/forward";
    /** The API server refuses shorter lifetimes; the operator caps it at the forward's expiry anyway. */
    static final int MIN_SECONDS = 600;
    private static final Duration POLL = Duration.ofMillis(200);

    private final KubernetesClient client;
    private final Duration lifetime;
    private final Duration timeout;
    private final Consumer<String> events;

    public KubernetesCsrCertificateSource(KubernetesClient client, Duration lifetime, Duration timeout, Consumer<String> events) {
        this.client = client;
        this.lifetime = lifetime;
        this.timeout = timeout;
        this.events = events;
    }

    @Override
    public KeyMaterial clientKey(ForwardRef forward) {
        KeyPair keys = CertificateAuthority.generateKeyPair();
        String request = CertificationRequests.write(CertificateAuthority.createCertificationRequest(keys, "porthole-client"));
        CertificateSigningRequest created;
        try {
            created = client.certificates().v1().certificateSigningRequests().resource(new CertificateSigningRequestBuilder()
                    .withNewMetadata().withGenerateName("porthole-" + safe(forward) + "-")
                    .addToAnnotations(FORWARD_ANNOTATION, forward.toString()).endMetadata()
                    .withNewSpec().withSignerName(SIGNER).withUsages("client auth")
                    .withExpirationSeconds((int) Math.max(MIN_SECONDS, lifetime.toSeconds()))
                    .withRequest(Base64.getEncoder().encodeToString(request.getBytes(StandardCharsets.UTF_8)))
                    .endSpec().build()).create();
        } catch (KubernetesClientException e) {
            throw new ForwarderException("could not request a client certificate: " + e.getStatus().getMessage());
        }
        String name = created.getMetadata().getName();
        events.accept("requested a client certificate (CertificateSigningRequest " + name + ")");
        CertificateSigningRequest done = awaitAnswer(name);
        Optional<CertificateSigningRequestCondition> refused = refusal(done);
        if (refused.isPresent()) {
            throw new ForwarderException("client certificate refused: " + refused.get().getMessage());
        }
        String pem = new String(Base64.getDecoder().decode(done.getStatus().getCertificate()), StandardCharsets.UTF_8);
        var certificate = Pem.readCertificate(pem);
        events.accept("client certificate issued until " + certificate.getNotAfter().toInstant());
        return new KeyMaterial(keys.getPrivate(), List.of(certificate));
    }

    /**
     * Polls with GET: users are granted create and get on CSRs only (list or watch would show them
     * everyone's requests), so no informer or watch here.
     */
    private CertificateSigningRequest awaitAnswer(String name) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            CertificateSigningRequest c = client.certificates().v1().certificateSigningRequests().withName(name).get();
            if (c != null && (hasCertificate(c) || refusal(c).isPresent())) {
                return c;
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ForwarderException("interrupted while waiting for CertificateSigningRequest " + name);
            }
        }
        throw new ForwarderException("no answer to CertificateSigningRequest " + name + " within " + timeout.toSeconds()
                + " s: is the Porthole operator running?");
    }

    private static boolean hasCertificate(CertificateSigningRequest c) {
        return c.getStatus() != null && c.getStatus().getCertificate() != null && !c.getStatus().getCertificate().isEmpty();
    }

    private static Optional<CertificateSigningRequestCondition> refusal(CertificateSigningRequest c) {
        if (c.getStatus() == null || c.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return c.getStatus().getConditions().stream()
                .filter(k -> "Denied".equals(k.getType()) || "Failed".equals(k.getType())).findFirst();
    }

    private static String safe(ForwardRef forward) {
        String s = forward.toString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        return s.length() > 40 ? s.substring(0, 40) : s;
    }
}
