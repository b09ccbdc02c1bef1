package dev.porthole.operator.identity;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the Porthole CA and the relay's serving certificate in Secrets of the operator's namespace, so
 * both survive restarts. The CA is created once (EC P-256, 10 years); the relay certificate (90 days)
 * is reissued when it is missing, not from this CA, within 30 days of expiry, or lacks a needed name.
 * Rotation: delete {@code porthole-relay-tls} to reissue the relay certificate; delete
 * {@code porthole-ca} (and restart) to rotate the CA, which invalidates every client certificate and
 * makes agents re-read the CA on their next injection.
 */
public final class CaStore {
    public static final String CA_SECRET = "porthole-ca";
    public static final String RELAY_SECRET = "porthole-relay-tls";
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration RELAY_VALIDITY = Duration.ofDays(90);
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final Logger log = LoggerFactory.getLogger(CaStore.class);

    private CaStore() {
    }

    public static CertificateAuthority ensureCa(KubernetesClient client, String namespace, Clock clock) {
        Secret existing = client.secrets().inNamespace(namespace).withName(CA_SECRET).get();
        if (existing != null && hasKey(existing)) {
            return CertificateAuthority.fromPem(decode(existing, "tls.crt"), decode(existing, "tls.key")).withClock(clock);
        }
        CertificateAuthority created = CertificateAuthority.create("Porthole CA", CA_VALIDITY, clock);
        try {
            if (existing == null) {
                client.resource(tlsSecret(namespace, CA_SECRET, created.keyMaterial())).create();
            } else {
                // the Helm chart creates it empty, so that uninstalling removes it; fill it in place
                client.resource(filled(existing, created.keyMaterial())).update();
            }
            log.info("created the Porthole CA secret={}/{} notAfter={}", namespace, CA_SECRET,
                    created.certificate().getNotAfter().toInstant());
            return created;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // another replica created it first: use theirs
            Secret theirs = client.secrets().inNamespace(namespace).withName(CA_SECRET).get();
            return CertificateAuthority.fromPem(decode(theirs, "tls.crt"), decode(theirs, "tls.key")).withClock(clock);
        }
    }

    public static KeyMaterial ensureRelayCertificate(KubernetesClient client, String namespace, CertificateAuthority ca,
                                                     List<String> names, Clock clock) {
        Secret existing = client.secrets().inNamespace(namespace).withName(RELAY_SECRET).get();
        if (existing != null && hasKey(existing)) {
            KeyMaterial current = KeyMaterial.fromPem(decode(existing, "tls.crt"), decode(existing, "tls.key"));
            if (stillGood(current.certificate(), ca, names, clock.instant())) {
                return current;
            }
        }
        KeyMaterial issued = ca.issueServerCertificate("porthole-relay", names, RELAY_VALIDITY);
        if (existing == null) {
            client.resource(tlsSecret(namespace, RELAY_SECRET, issued)).create();
        } else {
            client.resource(filled(existing, issued)).update();
        }
        log.info("issued the relay certificate secret={}/{} names={} notAfter={}", namespace, RELAY_SECRET, names,
                issued.certificate().getNotAfter().toInstant());
        return issued;
    }

    private static boolean hasKey(Secret secret) {
        return secret.getData() != null && secret.getData().get("tls.crt") != null && secret.getData().get("tls.key") != null;
    }

    /** {@code existing} (its metadata, labels, owner) with the key material as its data. */
    private static Secret filled(Secret existing, KeyMaterial key) {
        return new SecretBuilder(existing)
                .editMetadata().addToLabels("app.kubernetes.io/managed-by", existing.getMetadata().getLabels() == null
                        ? "porthole" : existing.getMetadata().getLabels().getOrDefault("app.kubernetes.io/managed-by", "porthole"))
                .endMetadata()
                .withData(Map.of("tls.crt", encode(key.certificateChainPem()), "tls.key", encode(key.privateKeyPem())))
                .build();
    }

    static boolean stillGood(X509Certificate cert, CertificateAuthority ca, List<String> names, Instant now) {
        try {
            cert.verify(ca.certificate().getPublicKey());
        } catch (Exception e) {
            return false;
        }
        if (cert.getNotAfter().toInstant().isBefore(now.plus(RENEW_BEFORE))) {
            return false;
        }
        Set<String> present = new HashSet<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                cert.getSubjectAlternativeNames().forEach(san -> present.add(String.valueOf(san.get(1))));
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        return present.containsAll(names);
    }

    private static Secret tlsSecret(String namespace, String name, KeyMaterial key) {
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace)
                .addToLabels("app.kubernetes.io/managed-by", "porthole").endMetadata()
                .withType("Opaque") // the chart pre-creates these Secrets empty, which kubernetes.io/tls forbids
                .withData(Map.of("tls.crt", encode(key.certificateChainPem()), "tls.key", encode(key.privateKeyPem())))
                .build();
    }

    private static String encode(String pem) {
        return Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(Secret secret, String key) {
        return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
}
