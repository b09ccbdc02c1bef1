package dev.porthole.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the operator with the in-cluster (or kubeconfig) credentials until the process is stopped. */
public final class OperatorMain {
    private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);

    private OperatorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        OperatorSettings settings = OperatorSettings.fromEnvironment(System.getenv());
        KubernetesClient client = new KubernetesClientBuilder().build();
        PortholeOperator operator = PortholeOperator.start(client, settings, Clock.systemUTC());
        log.info("porthole operator started instance={} namespace={} relayAgents={} relayClients={}", settings.instance(),
                settings.namespace(), operator.endpoints().agentAddress(), operator.endpoints().clientAddress());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            operator.close();
            client.close();
            stopped.countDown();
        }, "porthole-operator-stop"));
        stopped.await();
    }
}
