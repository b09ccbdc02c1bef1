package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.operator.RelayControl;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.protocol.EndReason;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.relay.ClientAddresses;
import dev.porthole.relay.RelayServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.porthole.api.v1alpha1.PortForwardPolicy;
import dev.porthole.operator.policy.EffectivePolicy;
import dev.porthole.operator.policy.PolicyEvaluator;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.util.function.Function;

/** The relay run inside the operator: its hooks filled from the cluster, its reports turned into audit. */
public final class RelayBridge implements RelayControl, AutoCloseable {
    static final java.time.Duration FORGET_AFTER = java.time.Duration.ofSeconds(30);
    private final RelayServer server;
    private final ForwardActivity activity;
    private final RelayAudit relayAudit;

    private final SharedIndexInformer<PortForwardPolicy> policies;
    private final ForwardCache forwards;

    private RelayBridge(RelayServer server, ForwardActivity activity, RelayAudit relayAudit,
                        SharedIndexInformer<PortForwardPolicy> policies, ForwardCache forwards) {
        this.server = server;
        this.activity = activity;
        this.relayAudit = relayAudit;
        this.policies = policies;
        this.forwards = forwards;
    }

    public static RelayBridge start(KubernetesClient client, AuditRecorder audit, CertificateAuthority ca,
                                    KeyMaterial serverKey, String bindAddress, int agentPort, int clientPort, Clock clock) {
        return start(client, audit, ca, serverKey, bindAddress, agentPort, clientPort, -1, ClientAddresses.PRESERVED, clock,
                OperatorMetrics.NONE);
    }

    /**
     * As above, also reporting sessions and agent connections to {@code metrics}; {@code externalClientPort} adds the
     * external client listener (-1: none), which knows client addresses as {@code externalClientAddresses} says.
     */
    public static RelayBridge start(KubernetesClient client, AuditRecorder audit, CertificateAuthority ca,
                                    KeyMaterial serverKey, String bindAddress, int agentPort, int clientPort,
                                    int externalClientPort, ClientAddresses externalClientAddresses, Clock clock,
                                    OperatorMetrics metrics) {
        return start(client, audit, ca.certificate(), serverKey, bindAddress, agentPort, clientPort, externalClientPort,
                externalClientAddresses, clock, metrics);
    }

    /** As above, for a relay that holds only the CA's certificate ({@link ClusterRelayMain}), never its key. */
    public static RelayBridge start(KubernetesClient client, AuditRecorder audit, java.security.cert.X509Certificate clientCa,
                                    KeyMaterial serverKey, String bindAddress, int agentPort, int clientPort,
                                    int externalClientPort, ClientAddresses externalClientAddresses, Clock clock,
                                    OperatorMetrics metrics) {
        // forwards and policies from informers: no agent or client connection costs an API request
        ForwardCache lookup = ForwardCache.start(client);
        SharedIndexInformer<PortForwardPolicy> policies = client.resources(PortForwardPolicy.class).inform();
        Function<String, EffectivePolicy> policyFor = ns -> PolicyEvaluator.effective(ns, policies.getStore().list());
        ForwardActivity activity = new ForwardActivity();
        RelayAudit relayAudit = new RelayAudit(audit, activity, lookup::find, clock, metrics);
        RelayServer server = RelayServer.builder()
                .bindAddress(bindAddress)
                .agentPort(agentPort)
                .clientPort(clientPort)
                .externalClientPort(externalClientPort)
                .externalClientAddresses(externalClientAddresses)
                .serverKey(serverKey)
                .clientCa(clientCa)
                .clock(clock)
                .agentAuthenticator(new AgentTokens(lookup::find))
                .sessionAuthorizer(new SessionGate(lookup::find, policyFor, activity, clock))
                .sessionListener(relayAudit)
                .agentListener(relayAudit)
                .build()
                .start();
        return new RelayBridge(server, activity, relayAudit, policies, lookup);
    }

    /**
     * Makes this relay cut sessions on its own when a forward is deleted or rejected ({@link ForwardEnds}): for a relay
     * running apart from the operator, which has no reconciler to tell it.
     */
    public RelayBridge closeOnForwardChanges(Clock clock) {
        forwards.onChange(new ForwardEnds(server, clock, (pf, expired) -> forget(ForwardRefs.of(pf), pf.getMetadata().getUid())));
        return this;
    }

    @Override
    public void closeForward(ForwardRef forward, EndReason reason, String why) {
        server.closeForward(forward, reason, "forward " + forward + " " + why);
    }

    /**
     * Drops what is remembered of a deleted forward after {@link #FORGET_AFTER}: its cut sessions' SessionClosed
     * records are written against the remembered forward until then. Without this, per-forward state would grow
     * for the life of the process.
     */
    @Override
    public void forget(ForwardRef forward, String uid) {
        activity.later(FORGET_AFTER, () -> relayAudit.forgetForward(forward, uid));
    }

    public ForwardActivity activity() {
        return activity;
    }

    public RelayServer server() {
        return server;
    }

    /** Lets the relay drain for up to {@code grace} (see {@link RelayServer#drain}), then closes everything. */
    public void drain(java.time.Duration grace) {
        try {
            server.drain(grace).join();
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        server.close();
        activity.close();
        policies.close();
        forwards.close();
    }
}
