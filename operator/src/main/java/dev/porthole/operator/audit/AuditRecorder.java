package dev.porthole.operator.audit;

import dev.porthole.operator.metrics.OperatorMetrics;
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
import java.util.Optional;
import java.util.OptionalLong;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each audit record twice: as an {@code events.k8s.io/v1} Event on the forward (what
 * {@code kubectl events} shows) and as one JSON line on the {@code porthole.audit} logger, because
 * Events age out of the API server within about an hour and the log is what gets shipped and kept.
 */
public class AuditRecorder {
    public static final String CONTROLLER = "porthole.dev/operator";
    /** Label on every Event: which component wrote it ({@link #OPERATOR} or {@link #RELAY}). */
    public static final String REPORTER_LABEL = "porthole.dev/reporter";
    public static final String OPERATOR = "operator";
    public static final String RELAY = "relay";
    /** Annotations of a SessionClosed Event: its payload bytes, for whoever counts sessions from Events. */
    public static final String BYTES_IN = "porthole.dev/bytes-in";
    public static final String BYTES_OUT = "porthole.dev/bytes-out";
    private static final Logger audit = LoggerFactory.getLogger("porthole.audit");
    private static final Logger log = LoggerFactory.getLogger(AuditRecorder.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KubernetesClient client;
    private final Clock clock;
    private final String instance;
    private final String reporter;
    private final OperatorMetrics metrics;
    private final EventThrottle refusals = new EventThrottle(5, Duration.ofMinutes(1));

    public AuditRecorder(KubernetesClient client, Clock clock, String instance) {
        this(client, clock, instance, OperatorMetrics.NONE);
    }

    /** As above, counting the Events the API server does not take into {@code metrics}. */
    public AuditRecorder(KubernetesClient client, Clock clock, String instance, OperatorMetrics metrics) {
        this(client, clock, instance, OPERATOR, metrics);
    }

    /** As above, labelling its Events as written by {@code reporter} ({@link #OPERATOR}, {@link #RELAY}). */
    public AuditRecorder(KubernetesClient client, Clock clock, String instance, String reporter, OperatorMetrics metrics) {
        this.client = client;
        this.clock = clock;
        this.instance = instance;
        this.reporter = reporter;
        this.metrics = metrics;
    }

    /**
     * Records {@code reason} for {@code pf}. {@code fields} carry the who/what/where (identity, client
     * address, bytes ...) and go into both the Event note and the JSON line. Failing to write the
     * Event never fails the caller: the JSON line is written first and always.
     */
    public void record(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
        write(pf, reason, note, fields);
    }

    /**
     * Records as {@link #record}, but for what must not happen unrecorded (a session opening): fails with
     * {@link AuditUnavailableException} when the Event could not be written, so the caller refuses what it records.
     */
    public void recordOrRefuse(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
        Optional<String> failure = write(pf, reason, note, fields);
        if (failure.isPresent()) {
            throw new AuditUnavailableException("audit Event for " + reason + " on forward " + pf.qualifiedName()
                    + " was not written: " + failure.get());
        }
    }

    /**
     * Records a refusal a peer can provoke at will (a denied session, a rejected agent): the JSON line always, the Event
     * at most 5 times a minute per forward and reason; the next Event written says how many were left out.
     */
    public void recordRefusal(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
        Instant now = clock.instant();
        OptionalLong withheld = refusals.admit(pf.getMetadata().getUid() + "/" + reason, now);
        if (withheld.isEmpty()) {
            writeLine(pf, reason, note, fields, now);
            metrics.auditEventWithheld(reason.name());
            return;
        }
        write(pf, reason, withheld.getAsLong() == 0 ? note
                : note + " (" + withheld.getAsLong() + " more like it in the last minute are in the audit log only)", fields);
    }

    /** Writes the JSON line, then the Event; empty when both were written, else why the Event was not. */
    private Optional<String> write(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
        Instant now = clock.instant();
        writeLine(pf, reason, note, fields, now);
        Optional<String> failure = writeEvent(pf, reason, note, fields, now);
        failure.ifPresent(why -> metrics.auditEventFailed(reason.name()));
        return failure;
    }

    private void writeLine(PortForward pf, AuditReason reason, String note, Map<String, ?> fields, Instant now) {
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
    }

    /** A SessionClosed record's byte counts as annotations (none for other records). */
    private static Map<String, String> byteCounts(AuditReason reason, Map<String, ?> fields) {
        if (reason != AuditReason.SessionClosed || !fields.containsKey("bytesIn") || !fields.containsKey("bytesOut")) {
            return Map.of();
        }
        return Map.of(BYTES_IN, String.valueOf(fields.get("bytesIn")), BYTES_OUT, String.valueOf(fields.get("bytesOut")));
    }

    /** The verified-at-admission creator, or a marker that the forward names none (it is then never activated). */
    static String creator(PortForward pf) {
        return pf.getSpec() == null || pf.getSpec().getRequestedBy() == null ? "(unverified)"
                : pf.getSpec().getRequestedBy().getUser();
    }

    public void record(PortForward pf, AuditReason reason, String note) {
        record(pf, reason, note, Map.of());
    }

    private Optional<String> writeEvent(PortForward pf, AuditReason reason, String note, Map<String, ?> fields, Instant now) {
        // the creator is who granted this access: every record names them beside whoever acted
        StringBuilder full = new StringBuilder(note).append(" creator=").append(creator(pf));
        fields.forEach((k, v) -> full.append(' ').append(k).append('=').append(v));
        String text = full.length() > 1000 ? full.substring(0, 1000) : full.toString();
        try {
            client.events().v1().events().inNamespace(pf.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withGenerateName(pf.getMetadata().getName() + "-")
                    .withNamespace(pf.getMetadata().getNamespace())
                    .addToLabels("porthole.dev/forward", pf.getMetadata().getName())
                    .addToLabels(REPORTER_LABEL, reporter)
                    .addToAnnotations(byteCounts(reason, fields)).endMetadata()
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
            return Optional.empty();
        } catch (KubernetesClientException e) {
            if (e.getMessage() != null && e.getMessage().contains("NamespaceTerminating")) {
                log.debug("namespace is being deleted; no Event for forward={} reason={}", pf.qualifiedName(), reason);
                return Optional.of("its namespace is being deleted");
            }
            log.warn("could not write audit Event forward={} reason={}: {}", pf.qualifiedName(), reason, e.getMessage());
            return Optional.of(e.getMessage());
        }
    }
}
