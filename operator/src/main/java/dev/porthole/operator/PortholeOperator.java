package dev.porthole.operator;

import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.identity.CaStore;
import dev.porthole.operator.identity.CredentialSigner;
import dev.porthole.operator.reconcile.PortForwardReconciler;
import dev.porthole.operator.relay.RelayBridge;
import dev.porthole.protocol.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;

/**
 * The Porthole operator: the CA, the in-process relay, the PortForward controller and the
 * {@code porthole.dev/client} certificate signer, on one Kubernetes client.
 */
public final class PortholeOperator implements AutoCloseable {
    private final Operator operator;
    private final RelayBridge relay;
    private final RelayEndpoints endpoints;
    private final CertificateAuthority ca;

    private PortholeOperator(Operator operator, RelayBridge relay, RelayEndpoints endpoints, CertificateAuthority ca) {
        this.operator = operator;
        this.relay = relay;
        this.endpoints = endpoints;
        this.ca = ca;
    }

    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock) {
        return start(client, settings, clock, RelayControl.NONE);
    }

    /** As {@link #start(KubernetesClient, OperatorSettings, Clock)}, also telling {@code observer} of every forward closed. */
    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock, RelayControl observer) {
        CertificateAuthority ca = CaStore.ensureCa(client, settings.namespace(), clock);
        KeyMaterial relayKey = CaStore.ensureRelayCertificate(client, settings.namespace(), ca,
                settings.relayCertificateNames(), clock);
        AuditRecorder audit = new AuditRecorder(client, clock, settings.instance());
        RelayBridge relay = RelayBridge.start(client, audit, ca, relayKey, settings.relayBindAddress(),
                settings.relayAgentPort(), settings.relayClientPort(), clock);
        RelayEndpoints endpoints = new RelayEndpoints(settings.relayAgentHost() + ":" + relay.server().agentPort(),
                settings.relayClientHost() + ":" + relay.server().clientPort(), ca.keyMaterial().certificateChainPem());
        Operator operator = new Operator(o -> o.withKubernetesClient(client)
                .withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        operator.register(new PortForwardReconciler(client, clock, settings.agentImage(), endpoints, audit,
                relay.andThen(observer), relay.activity()));
        operator.register(new CredentialSigner(client, ca, audit, clock));
        try {
            operator.start();
        } catch (RuntimeException e) {
            relay.close();
            throw e;
        }
        return new PortholeOperator(operator, relay, endpoints, ca);
    }

    public RelayEndpoints endpoints() {
        return endpoints;
    }

    public CertificateAuthority certificateAuthority() {
        return ca;
    }

    public RelayBridge relay() {
        return relay;
    }

    @Override
    public void close() {
        operator.stop();
        relay.close();
    }
}
