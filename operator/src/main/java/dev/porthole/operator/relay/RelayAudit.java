package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.audit.AuditUnavailableException;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.protocol.EndReason;
import dev.porthole.relay.AgentListener;
import dev.porthole.relay.SessionListener;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Turns what the relay reports into audit records (Event + JSON line) and into {@link ForwardActivity}.
 * The forward is remembered from when a session opened, so the SessionClosed record of a revoked
 * forward can still be written against it.
 */
public final class RelayAudit implements SessionListener, AgentListener {
    private final AuditRecorder audit;
    private final ForwardActivity activity;
    private final Function<ForwardRef, Optional<PortForward>> forwards;
    private final Clock clock;
    private final OperatorMetrics metrics;
    private final Map<ForwardRef, PortForward> known = new ConcurrentHashMap<>();

    public RelayAudit(AuditRecorder audit, ForwardActivity activity, Function<ForwardRef, Optional<PortForward>> forwards, Clock clock) {
        this(audit, activity, forwards, clock, OperatorMetrics.NONE);
    }

    /** As above, also counting sessions, bytes, denials and agent connections into {@code metrics}. */
    public RelayAudit(AuditRecorder audit, ForwardActivity activity, Function<ForwardRef, Optional<PortForward>> forwards, Clock clock,
                      OperatorMetrics metrics) {
        this.audit = audit;
        this.activity = activity;
        this.forwards = forwards;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** Records the opening before the session goes ahead; a session that cannot be recorded is refused (it throws). */
    @Override
    public void opened(Opened s) {
        PortForward pf = forward(s.forward()).orElseThrow(() -> unrecorded(
                new AuditUnavailableException("forward " + s.forward() + " is unknown, so the session cannot be recorded")));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("session", s.sessionId());
        f.put("user", s.identity().username());
        f.put("groups", s.identity().groups()); // a JSON array: group names may hold commas
        f.put("client", address(s.clientAddress()));
        f.put("resolvedTarget", pf.getStatus() == null ? null : pf.getStatus().getTarget());
        try {
            audit.recordOrRefuse(pf, AuditReason.SessionOpened, s.identity().username() + " opened a session from "
                    + address(s.clientAddress()), f);
        } catch (AuditUnavailableException e) {
            throw unrecorded(e);
        }
        activity.sessionOpened(s.forward());
        metrics.sessionOpened();
    }

    private AuditUnavailableException unrecorded(AuditUnavailableException e) {
        metrics.sessionUnrecorded();
        return e;
    }

    @Override
    public void closed(Closed s) {
        activity.sessionClosed(s.forward(), s.bytesFromClient(), s.bytesToClient());
        metrics.sessionClosed(s.bytesFromClient(), s.bytesToClient(), s.duration(), s.reason().name());
        forward(s.forward()).ifPresent(pf -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("session", s.sessionId());
            f.put("user", s.identity().username());
            f.put("client", address(s.clientAddress()));
            f.put("bytesIn", s.bytesFromClient());
            f.put("bytesOut", s.bytesToClient());
            f.put("durationMs", s.duration().toMillis());
            f.put("endReason", s.reason().name());
            audit.record(pf, AuditReason.SessionClosed, s.identity().username() + "'s session ended: "
                    + describe(s.reason()) + (s.message() == null || s.message().isBlank() ? "" : " (" + s.message() + ")"), f);
        });
    }

    @Override
    public void denied(Denied d) {
        metrics.sessionDenied(d.reason().name());
        forward(d.forward()).ifPresent(pf -> {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("user", d.identity() == null ? "(no identity)" : d.identity().username());
            f.put("client", address(d.clientAddress()));
            f.put("endReason", d.reason().name());
            audit.recordRefusal(pf, AuditReason.SessionDenied, "session refused: " + d.message(), f);
        });
    }

    @Override
    public void connected(ForwardRef forward, InetSocketAddress remoteAddress) {
        activity.agentConnected(forward, clock.instant());
        metrics.agentConnected();
        forward(forward).ifPresent(pf -> audit.record(pf, AuditReason.AgentConnected,
                "agent connected to the relay from " + address(remoteAddress), Map.of("agent", address(remoteAddress))));
    }

    @Override
    public void disconnected(ForwardRef forward, InetSocketAddress remoteAddress, EndReason reason, String message) {
        activity.agentDisconnected(forward);
        if (reason == EndReason.EXPIRED || reason == EndReason.REVOKED || reason == EndReason.REJECTED
                || reason == EndReason.RELAY_SHUTDOWN) {
            return; // the forward's own end or refusal is recorded as Expired, Revoked or Rejected
        }
        forwards.apply(forward).ifPresent(pf -> audit.record(pf, AuditReason.AgentDisconnected,
                "agent disconnected: " + describe(reason), Map.of("agent", address(remoteAddress), "endReason", reason.name())));
    }

    @Override
    public void rejected(ForwardRef forward, InetSocketAddress remoteAddress, String reason) {
        metrics.agentRejected();
        forward(forward).ifPresent(pf -> audit.recordRefusal(pf, AuditReason.AgentRejected,
                "agent refused: " + reason, Map.of("agent", address(remoteAddress))));
    }

    /** Forgets {@code forward} unless a newer forward of that name (another uid) has been seen since. */
    void forgetForward(ForwardRef forward, String uid) {
        PortForward remembered = known.get(forward);
        if (remembered == null || uid.equals(remembered.getMetadata().getUid())) {
            known.remove(forward);
            activity.forget(forward);
        }
    }

    /** How many forwards this remembers. */
    int rememberedForwards() {
        return known.size();
    }

    private Optional<PortForward> forward(ForwardRef forward) {
        if (forward == null) {
            return Optional.empty(); // the peer named no readable forward: its refusal has nothing to be recorded against
        }
        Optional<PortForward> live = forwards.apply(forward);
        live.ifPresent(pf -> known.put(forward, pf));
        return live.isPresent() ? live : Optional.ofNullable(known.get(forward));
    }

    private static String address(InetSocketAddress a) {
        return a == null ? "?" : a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    static String describe(EndReason reason) {
        return switch (reason) {
            case CLIENT_CLOSED -> "client closed";
            case TARGET_CLOSED -> "target closed";
            case TARGET_REFUSED -> "target refused the connection";
            case EXPIRED -> "forward expired";
            case REVOKED -> "forward revoked";
            case REJECTED -> "forward rejected";
            case AGENT_LOST, AGENT_EXITED, AGENT_UNAVAILABLE -> "agent unavailable";
            case RELAY_SHUTDOWN -> "relay shut down";
            case DENIED -> "denied";
            default -> reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
        };
    }
}
