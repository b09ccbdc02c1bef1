package dev.porthole.operator.identity;

import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.pki.CertificationRequests;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.operator.relay.ForwardLookup;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.IdentityNames;
import dev.porthole.protocol.pki.Pem;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequest;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestCondition;
import io.fabric8.kubernetes.api.model.certificates.v1.CertificateSigningRequestConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Field;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signer for {@code porthole.dev/client}: approves a CertificateSigningRequest only when the
 * identity the API server stamped on it can be carried exactly ({@link IdentityNames}), the request asks
 * for client-auth usages and an EC P-256 key ({@link CertificateRequestCheck}), and the identity is in
 * the named forward's audience and the forward is Active; then signs a certificate carrying that identity
 * and the forward's name and uid, expiring no later than the forward. Everything else is denied with a
 * reason the requester sees on the CSR.
 */
@ControllerConfiguration(name = "porthole-client-signer", generationAwareEventProcessing = false,
        informer = @Informer(fieldSelector = @Field(path = "spec.signerName", value = CredentialSigner.SIGNER)))
public class CredentialSigner implements Reconciler<CertificateSigningRequest> {
    public static final String SIGNER = "porthole.dev/client";
    public static final String FORWARD_ANNOTATION = "porthole.dev/forward";
    private static final Logger log = LoggerFactory.getLogger(CredentialSigner.class);

    private final KubernetesClient client;
    private final CertificateAuthority ca;
    private final AuditRecorder audit;
    private final ForwardLookup forwards;
    private final Clock clock;
    private final OperatorMetrics metrics;

    public CredentialSigner(KubernetesClient client, CertificateAuthority ca, AuditRecorder audit, Clock clock) {
        this(client, ca, audit, clock, OperatorMetrics.NONE);
    }

    /** As above, also counting issued and denied certificates into {@code metrics}. */
    public CredentialSigner(KubernetesClient client, CertificateAuthority ca, AuditRecorder audit, Clock clock,
                            OperatorMetrics metrics) {
        this.client = client;
        this.ca = ca;
        this.audit = audit;
        this.forwards = new ForwardLookup(client);
        this.clock = clock;
        this.metrics = metrics;
    }

    @Override
    public UpdateControl<CertificateSigningRequest> reconcile(CertificateSigningRequest csr, Context<CertificateSigningRequest> context) {
        if (!SIGNER.equals(csr.getSpec().getSignerName()) || isFinished(csr)) {
            return UpdateControl.noUpdate();
        }
        String name = csr.getMetadata().getName();
        String forwardName = csr.getMetadata().getAnnotations() == null ? null
                : csr.getMetadata().getAnnotations().get(FORWARD_ANNOTATION);
        Optional<PortForward> forward = forwards.find(forwardName);
        String username = csr.getSpec().getUsername();
        List<String> groups = csr.getSpec().getGroups() == null ? List.of() : csr.getSpec().getGroups();
        Long requested = csr.getSpec().getExpirationSeconds() == null ? null : csr.getSpec().getExpirationSeconds().longValue();
        Instant now = clock.instant();
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("user", username);
        fields.put("groups", groups); // a JSON array: group names may hold commas
        fields.put("csr", name);
        // Names a certificate cannot carry exactly are refused before anything else looks at them.
        String unrepresentable = IdentityNames.problem(username, groups);
        if (unrepresentable != null) {
            // the names may hold the very characters refused: logs and Events get them escaped
            String shown = IdentityNames.escaped(username);
            fields.put("user", shown);
            fields.put("groups", groups.stream().map(IdentityNames::escaped).toList());
            deny(name, "UnsupportedIdentity", unrepresentable + ", so no certificate could carry it exactly",
                    forward, shown, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        String usages = CertificateRequestCheck.usageRefusal(csr.getSpec().getUsages());
        if (usages != null) {
            deny(name, "InvalidRequest", usages, forward, username, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        PKCS10CertificationRequest request;
        try {
            request = CertificationRequests.read(new String(Base64.getDecoder().decode(csr.getSpec().getRequest()),
                    StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            deny(name, "InvalidRequest", "the request is not a PEM certificate request: " + e.getMessage(), forward,
                    username, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        String key = CertificateRequestCheck.keyRefusal(request);
        if (key != null) {
            deny(name, "InvalidRequest", key, forward, username, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        CredentialDecision decision = CredentialDecision.decide(forwardName, forward, username, groups, requested, now);
        if (!decision.approved()) {
            deny(name, "PortholeDenied", decision.reason(), forward, username, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        X509Certificate cert;
        try {
            cert = ca.issueClientCertificate(request, new ClientIdentity(username, groups, ForwardRefs.of(forward.get()),
                    forward.get().getMetadata().getUid(), decision.notAfter()));
        } catch (RuntimeException e) {
            // a malformed request is the requester's problem, not a reason to retry forever; failures of the
            // API calls below are not, and are retried
            deny(name, "InvalidRequest", "the certificate request could not be signed: " + e.getMessage(), forward,
                    username, forwardName, fields, now);
            return UpdateControl.noUpdate();
        }
        CertificateSigningRequest approved = client.certificates().v1().certificateSigningRequests().withName(name)
                .approve(condition("Approved", "PortholeApproved", decision.reason(), now));
        approved.getStatus().setCertificate(Base64.getEncoder().encodeToString(
                Pem.write(cert).getBytes(StandardCharsets.UTF_8)));
        client.certificates().v1().certificateSigningRequests().resource(approved).updateStatus();
        fields.put("notAfter", decision.notAfter().toString());
        metrics.credentialIssued();
        audit.record(forward.get(), AuditReason.CredentialIssued,
                "client certificate issued to " + username + " until " + decision.notAfter(), fields);
        return UpdateControl.noUpdate();
    }

    /** Denies the CSR with {@code message} (which the requester sees), logs, counts and audits it. */
    private void deny(String csrName, String conditionReason, String message, Optional<PortForward> forward,
                      String username, String forwardName, Map<String, Object> fields, Instant now) {
        client.certificates().v1().certificateSigningRequests().withName(csrName)
                .deny(condition("Denied", conditionReason, message, now));
        log.info("client certificate denied csr={} user={} forward={} reason={}", csrName, username, forwardName, message);
        metrics.credentialDenied();
        forward.ifPresent(pf -> audit.recordRefusal(pf, AuditReason.CredentialDenied,
                "client certificate refused to " + username + ": " + message, fields));
    }

    private static boolean isFinished(CertificateSigningRequest csr) {
        if (csr.getStatus() == null) {
            return false;
        }
        if (csr.getStatus().getCertificate() != null && !csr.getStatus().getCertificate().isEmpty()) {
            return true;
        }
        List<CertificateSigningRequestCondition> conditions = csr.getStatus().getConditions() == null
                ? new ArrayList<>() : csr.getStatus().getConditions();
        return conditions.stream().anyMatch(c -> "Denied".equals(c.getType()) || "Failed".equals(c.getType()));
    }

    private static CertificateSigningRequestCondition condition(String type, String reason, String message, Instant now) {
        return new CertificateSigningRequestConditionBuilder().withType(type).withStatus("True").withReason(reason)
                .withMessage(message).withLastUpdateTime(now.toString()).build();
    }
}
