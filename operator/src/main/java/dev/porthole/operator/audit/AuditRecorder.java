package dev.porthole.operator.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.porthole.api.v1alpha1.PortForward;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each audit record twice: as an {@code events.k8s.io/v1} Event on the forward (what
 * {@code kubectl events} shows) and as one JSON line on the {@code porthole.audit} logger, because
 * Events age out of the API server within about an hour and the log is what gets shipped and kept.
 */
public class AuditRecorder {
    public static final String CONTROLLER = "porthole.dev/operator";
    private static final Logger audit = LoggerFactory.getLogger("porthole.audit");
    private static final Logger log = LoggerFactory.getLogger(AuditRecorder.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final Clock clock;
    private final String instance;

    public AuditRecorder(KubernetesClient client, Clock clock, String instance) {
        this.client = client;
        this.clock = clock;
        this.instance = instance;
    }

    /**
     * Records {@code reason} for {@code pf}. {@code fields} carry the who/what/where (identity, client
     * address, bytes ...) and go into both the Event note and the JSON line. Failing to write the
     * Event never fails the caller: the JSON line is written first and always.
     */
    public void record(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
        Instant now = clock.instant();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", now.toString());
        line.put("audit", reason.name());
        line.put("forward", pf.qualifiedName());
        line.put("uid", pf.getMetadata().getUid());
        line.put("creator", creator(pf));
        if (pf.getSpec() != null && pf.getSpec().getTarget() != null) {
            line.put("target", pf.getSpec().getTarget().describe());
        }
        if (pf.getSpec() != null && pf.getSpec().getReason() != null) {
            line.put("reason", pf.getSpec().getReason());
        }
        line.putAll(fields);
        line.put("message", note);
        ObjectNode node = JSON.valueToTree(line);
        audit.info(node.toString());
        writeEvent(pf, reason, note, fields, now);
    }

    /** The verified-at-admission creator, or a marker that the forward names none (it is then never activated). */
    static String creator(PortForward pf) {
        return pf.getSpec() == null || pf.getSpec().getRequestedBy() == null ? "(unverified)"
                : pf.getSpec().getRequestedBy().getUser();
    }

    public void record(PortForward pf, AuditReason reason, String note) {
        record(pf, reason, note, Map.of());
    }

    private void writeEvent(PortForward pf, AuditReason reason, String note, Map<String, ?> fields, Instant now) {
        // the creator is who granted this access: every record names them beside whoever acted
        StringBuilder full = new StringBuilder(note).append(" creator=").append(creator(pf));
        fields.forEach((k, v) -> full.append(' ').append(k).append('=').append(v));
        String text = full.length() > 1000 ? full.substring(0, 1000) : full.toString();
        try {
            client.events().v1().events().inNamespace(pf.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withGenerateName(pf.getMetadata().getName() + "-")
                    .withNamespace(pf.getMetadata().getNamespace())
                    .addToLabels("porthole.dev/forward", pf.getMetadata().getName()).endMetadata()
                    .withEventTime(MicroTimes.of(now))
                    .withReportingController(CONTROLLER)
                    .withReportingInstance(instance)
                    .withAction(reason.name())
                    .withReason(reason.name())
                    .withType(reason.eventType())
                    .withNote(text)
                    .withRegarding(new ObjectReferenceBuilder().withApiVersion(pf.getApiVersion()).withKind(pf.getKind())
                            .withName(pf.getMetadata().getName()).withNamespace(pf.getMetadata().getNamespace())
                            .withUid(pf.getMetadata().getUid()).build())
                    .build()).create();
        } catch (KubernetesClientException e) {
            if (e.getMessage() != null && e.getMessage().contains("NamespaceTerminating")) {
                log.debug("namespace is being deleted; no Event for forward={} reason={}", pf.qualifiedName(), reason);
                return;
            }
            log.warn("could not write audit Event forward={} reason={}: {}", pf.qualifiedName(), reason, e.getMessage());
        }
    }
}
