package dev.porthole.operator;

import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.reconcile.PortForwardReconciler;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;

/** The Porthole operator: the PortForward controller on one Kubernetes client. */
public final class PortholeOperator implements AutoCloseable {
    private final Operator operator;

    private PortholeOperator(Operator operator) {
        this.operator = operator;
    }

    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock, RelayControl relay) {
        Operator operator = new Operator(o -> o.withKubernetesClient(client)
                .withCloseClientOnStop(false)
                .withStopOnInformerErrorDuringStartup(true));
        AuditRecorder audit = new AuditRecorder(client, clock, settings.instance());
        operator.register(new PortForwardReconciler(client, clock, settings, audit, relay));
        operator.start();
        return new PortholeOperator(operator);
    }

    @Override
    public void close() {
        operator.stop();
    }
}
