package dev.porthole.operator.metrics;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.relay.RelayStats;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The operator's Prometheus metrics. Names as scraped:
 * <ul>
 *   <li>{@code porthole_forwards{phase}}: forwards in the operator's cache by {@code status.phase}</li>
 *   <li>{@code porthole_sessions_active}, {@code porthole_sessions_total}: client sessions now and since start</li>
 *   <li>{@code porthole_session_bytes_total{direction="in"|"out"}}: bytes from clients to targets and back</li>
 *   <li>{@code porthole_session_duration_seconds} (histogram) of ended sessions</li>
 *   <li>{@code porthole_credentials_total{outcome="issued"|"denied"}}: client certificate requests answered</li>
 *   <li>{@code porthole_relay_connections_total{side="client"|"agent", outcome}}: client sessions
 *       {@code opened}/{@code denied}, agents {@code connected}/{@code rejected}</li>
 *   <li>{@code porthole_relay_tls_failures_total}, {@code porthole_relay_protocol_errors_total},
 *       {@code porthole_relay_agents_connected}</li>
 *   <li>the Java Operator SDK's {@code operator_sdk_*} reconcile counters and timers, and JVM metrics</li>
 * </ul>
 */
public final class PortholeMetrics implements OperatorMetrics {
    private final PrometheusMeterRegistry registry;
    private final AtomicLong activeSessions = new AtomicLong();
    private final Counter sessions;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Timer sessionDuration;
    private final Counter credentialsIssued;
    private final Counter credentialsDenied;
    private final Counter clientsOpened;
    private final Counter clientsDenied;
    private final Counter agentsConnected;
    private final Counter agentsRejected;

    public PortholeMetrics() {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    public PortholeMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        Gauge.builder("porthole.sessions.active", activeSessions, AtomicLong::get)
                .description("client sessions open now").register(registry);
        sessions = Counter.builder("porthole.sessions").description("client sessions opened").register(registry);
        bytesIn = bytes("in", "bytes from clients to targets");
        bytesOut = bytes("out", "bytes from targets to clients");
        sessionDuration = Timer.builder("porthole.session.duration").description("duration of ended sessions")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(100))
                .maximumExpectedValue(Duration.ofHours(24))
                .register(registry);
        credentialsIssued = credentials("issued");
        credentialsDenied = credentials("denied");
        clientsOpened = connections("client", "opened");
        clientsDenied = connections("client", "denied");
        agentsConnected = connections("agent", "connected");
        agentsRejected = connections("agent", "rejected");
    }

    private Counter bytes(String direction, String description) {
        return Counter.builder("porthole.session.bytes").tag("direction", direction).description(description)
                .register(registry);
    }

    private Counter credentials(String outcome) {
        return Counter.builder("porthole.credentials").tag("outcome", outcome)
                .description("client certificate requests answered").register(registry);
    }

    private Counter connections(String side, String outcome) {
        return Counter.builder("porthole.relay.connections").tag("side", side).tag("outcome", outcome)
                .description("connections to the relay by outcome").register(registry);
    }

    /**
     * The Java Operator SDK's reconcile metrics into this registry, aggregated per controller (not per
     * resource: forwards are short-lived, so per-resource meters would only grow the series count).
     */
    public Metrics reconcileMetrics() {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    /** Counts {@code forwards} (read at each scrape, from the operator's cache) by phase; no status counts as Pending. */
    public void trackForwards(Supplier<Stream<PortForward>> forwards) {
        for (Phase phase : Phase.values()) {
            Gauge.builder("porthole.forwards", () -> forwards.get().filter(pf -> phaseOf(pf) == phase).count())
                    .tag("phase", phase.name()).description("PortForwards by phase").register(registry);
        }
    }

    private static Phase phaseOf(PortForward pf) {
        return pf.getStatus() == null || pf.getStatus().getPhase() == null ? Phase.Pending : pf.getStatus().getPhase();
    }

    /** Exposes the relay's own counters (read at each scrape). */
    public void trackRelay(Supplier<RelayStats> stats) {
        FunctionCounter.builder("porthole.relay.tls.failures", stats, s -> s.get().tlsFailures())
                .description("connections that failed the TLS handshake").register(registry);
        FunctionCounter.builder("porthole.relay.protocol.errors", stats, s -> s.get().protocolErrors())
                .description("connections closed for malformed frames").register(registry);
        Gauge.builder("porthole.relay.agents.connected", stats, s -> s.get().agentsConnected())
                .description("agents connected now").register(registry);
        FunctionCounter.builder("porthole.relay.handshake.timeouts", stats, s -> s.get().handshakeTimeouts())
                .description("connections closed for not completing admission in time").register(registry);
        FunctionCounter.builder("porthole.relay.connections.shed", stats, s -> s.get().connectionsShed())
                .description("connections closed at accept: too many were waiting for admission, in all or from their source")
                .register(registry);
        Gauge.builder("porthole.relay.handshakes.pending", stats, s -> s.get().handshakesPending())
                .description("connections between accept and admission now").register(registry);
        FunctionCounter.builder("porthole.relay.reports.dropped", stats, s -> s.get().reportsDropped())
                .description("audit reports (session closes, denials, agent events) the relay could not queue")
                .register(registry);
        FunctionCounter.builder("porthole.relay.data.connections.refused", stats, s -> s.get().dataConnectionsRefused())
                .description("data connections closed for a malformed preamble or an unknown, spent or misplaced session ticket")
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void sessionOpened() {
        activeSessions.incrementAndGet();
        sessions.increment();
        clientsOpened.increment();
    }

    @Override
    public void sessionClosed(long bytesFromClient, long bytesToClient, Duration duration, String endReason) {
        activeSessions.updateAndGet(n -> Math.max(0, n - 1));
        bytesIn.increment(bytesFromClient);
        bytesOut.increment(bytesToClient);
        sessionDuration.record(duration);
    }

    @Override
    public void sessionDenied(String endReason) {
        clientsDenied.increment();
    }

    @Override
    public void agentConnected() {
        agentsConnected.increment();
    }

    @Override
    public void agentRejected() {
        agentsRejected.increment();
    }

    @Override
    public void credentialIssued() {
        credentialsIssued.increment();
    }

    @Override
    public void credentialDenied() {
        credentialsDenied.increment();
    }

    @Override
    public void auditEventFailed(String auditReason) {
        Counter.builder("porthole.audit.event.failures").tag("reason", auditReason)
                .description("audit records whose Event the API server did not take (the JSON line was written)")
                .register(registry).increment();
    }

    @Override
    public void auditEventWithheld(String auditReason) {
        Counter.builder("porthole.audit.events.withheld").tag("reason", auditReason)
                .description("refusals recorded in the JSON audit log only: their Event was withheld by the rate limit")
                .register(registry).increment();
    }

    @Override
    public void sessionUnrecorded() {
        Counter.builder("porthole.relay.sessions.unrecorded")
                .description("sessions refused because their opening could not be recorded (fail closed)")
                .register(registry).increment();
    }
}
