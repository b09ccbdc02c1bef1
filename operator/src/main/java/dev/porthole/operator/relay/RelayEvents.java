package dev.porthole.operator.relay;

import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.protocol.ForwardRef;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a relay running apart from the operator saw, learnt from the Events it writes (label
 * {@code porthole.dev/reporter=relay}): agents connecting and disconnecting, sessions opening and closing with their
 * bytes. It fills the same {@link ForwardActivity} the operator's own relay fills directly, so status and the agent's
 * ready condition read the same. An operator that starts again lists the Events still kept (the API server keeps them
 * about an hour) and so resumes where it was; an agent's state is that of its latest Event per relay instance, whatever
 * order they are listed in.
 */
public final class RelayEvents implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RelayEvents.class);

    private record AgentSeen(Instant at, boolean connected) {
    }

    private final ForwardActivity activity = new ForwardActivity();
    private final Map<ForwardRef, Map<String, AgentSeen>> agents = new ConcurrentHashMap<>();
    private final SharedIndexInformer<Event> informer;

    private RelayEvents(KubernetesClient client) {
        this.informer = client.events().v1().events().inAnyNamespace()
                .withLabel(AuditRecorder.REPORTER_LABEL, AuditRecorder.RELAY).inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Event event) {
                        seen(event);
                    }

                    @Override
                    public void onUpdate(Event before, Event after) {
                        // Porthole's Events are written once, never updated
                    }

                    @Override
                    public void onDelete(Event event, boolean finalStateUnknown) {
                        // an Event aging out changes nothing that happened
                    }
                });
    }

    /** Starts watching the relay's Events; returns once those the API server still keeps are read. */
    public static RelayEvents start(KubernetesClient client) {
        return new RelayEvents(client);
    }

    public ForwardActivity activity() {
        return activity;
    }

    void seen(Event event) {
        String name = event.getMetadata().getLabels() == null ? null : event.getMetadata().getLabels().get("porthole.dev/forward");
        String reason = event.getReason();
        if (name == null || reason == null) {
            return;
        }
        ForwardRef forward;
        try {
            forward = new ForwardRef(event.getMetadata().getNamespace(), name);
        } catch (IllegalArgumentException e) {
            LOG.atDebug().addKeyValue("event", event.getMetadata().getName()).log("relay Event names no forward");
            return;
        }
        Instant at = event.getEventTime() == null || event.getEventTime().getTime() == null ? Instant.EPOCH
                : Instant.parse(event.getEventTime().getTime());
        String instance = event.getReportingInstance() == null ? "" : event.getReportingInstance();
        AuditReason record;
        try {
            record = AuditReason.valueOf(reason);
        } catch (IllegalArgumentException e) {
            return; // not one of Porthole's records
        }
        switch (record) {
            case AgentConnected -> agent(forward, instance, at, true);
            case AgentDisconnected -> agent(forward, instance, at, false);
            case SessionOpened -> activity.sessionOpened(forward);
            case SessionClosed -> activity.sessionClosed(forward, count(event, AuditRecorder.BYTES_IN),
                    count(event, AuditRecorder.BYTES_OUT));
            default -> {
                // refusals and the forward's own records change no activity
            }
        }
    }

    /** The latest Event of each relay instance decides; connected when any instance's latest says so. */
    private void agent(ForwardRef forward, String instance, Instant at, boolean connected) {
        Map<String, AgentSeen> byInstance = agents.computeIfAbsent(forward, f -> new ConcurrentHashMap<>());
        AgentSeen now = byInstance.merge(instance, new AgentSeen(at, connected),
                (old, fresh) -> fresh.at().isBefore(old.at()) ? old : fresh);
        if (now.at() != at || now.connected() != connected) {
            return; // an older Event listed after a newer one
        }
        boolean any = byInstance.values().stream().anyMatch(AgentSeen::connected);
        if (any) {
            Instant since = byInstance.values().stream().filter(AgentSeen::connected).map(AgentSeen::at)
                    .min(Instant::compareTo).orElse(at);
            activity.agentConnected(forward, since);
        } else {
            activity.agentDisconnected(forward);
        }
    }

    /**
     * What the reconciler tells the relay, for a relay running apart: nothing to close (it cuts sessions itself, from
     * its informer), and a deleted forward forgotten here once its last Events had time to arrive.
     */
    public dev.porthole.operator.RelayControl control() {
        return new dev.porthole.operator.RelayControl() {
            @Override
            public void closeForward(ForwardRef forward, dev.porthole.protocol.EndReason reason, String why) {
                // the relay cuts the forward's sessions on its own when it sees the change
            }

            @Override
            public void forget(ForwardRef forward, String uid) {
                activity.later(RelayBridge.FORGET_AFTER, () -> RelayEvents.this.forget(forward));
            }
        };
    }

    /** Forgets a deleted forward's agents (its activity goes with {@link ForwardActivity#forget}). */
    public void forget(ForwardRef forward) {
        agents.remove(forward);
        activity.forget(forward);
    }

    private static long count(Event event, String annotation) {
        Map<String, String> annotations = event.getMetadata().getAnnotations();
        String value = annotations == null ? null : annotations.get(annotation);
        try {
            return value == null ? 0 : Math.max(0, Long.parseLong(value));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        informer.close();
        activity.close();
    }
}
