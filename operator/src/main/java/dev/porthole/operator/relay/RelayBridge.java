package dev.porthole.operator.relay;

import dev.porthole.operator.RelayControl;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.relay.RelayServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;

/** The relay run inside the operator: its hooks filled from the cluster, its reports turned into audit. */
public final class RelayBridge implements RelayControl, AutoCloseable {
    private final RelayServer server;
    private final ForwardActivity activity;
    private final RelayAudit relayAudit;

    private RelayBridge(RelayServer server, ForwardActivity activity, RelayAudit relayAudit) {
        this.server = server;
        this.activity = activity;
        this.relayAudit = relayAudit;
    }

    public static RelayBridge start(KubernetesClient client, AuditRecorder audit, CertificateAuthority ca,
                                    KeyMaterial serverKey, String bindAddress, int agentPort, int clientPort, Clock clock) {
        return start(client, audit, ca, serverKey, bindAddress, agentPort, clientPort, clock, OperatorMetrics.NONE);
    }

    /** As above, also reporting sessions and agent connections to {@code metrics}. */
    public static RelayBridge start(KubernetesClient client, AuditRecorder audit, CertificateAuthority ca,
                                    KeyMaterial serverKey, String bindAddress, int agentPort, int clientPort, Clock clock,
                                    OperatorMetrics metrics) {
        ForwardLookup lookup = new ForwardLookup(client);
        ForwardActivity activity = new ForwardActivity();
        RelayAudit relayAudit = new RelayAudit(audit, activity, lookup::find, clock, metrics);
        RelayServer server = RelayServer.builder()
                .bindAddress(bindAddress)
                .agentPort(agentPort)
                .clientPort(clientPort)
                .serverKey(serverKey)
                .clientCa(ca.certificate())
                .clock(clock)
                .agentAuthenticator(new AgentTokens(client, lookup::find))
                .sessionAuthorizer(new SessionGate(lookup::find, activity, clock))
                .sessionListener(relayAudit)
                .agentListener(relayAudit)
                .build()
                .start();
        return new RelayBridge(server, activity, relayAudit);
    }

    @Override
    public void closeForward(String forward, String reason) {
        server.closeForward(forward, "expired".equals(reason) ? EndReason.EXPIRED : EndReason.REVOKED,
                "forward " + forward + " " + reason);
    }

    /** Drops what is remembered of a forward once it is gone for good. */
    public void forget(String forward) {
        relayAudit.forgetForward(forward);
    }

    public ForwardActivity activity() {
        return activity;
    }

    public RelayServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
        activity.close();
    }
}
