package dev.porthole.operator;

import dev.porthole.operator.metrics.HealthServer;
import dev.porthole.operator.metrics.PortholeMetrics;
import dev.porthole.protocol.tls.SelfCheck;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator with the in-cluster (or kubeconfig) credentials until the process is stopped.
 * {@code --self-check} alone prints the TLS provider in use and exits ({@link SelfCheck}); {@code relay} runs the relay
 * instead, as its own Deployment does ({@link dev.porthole.operator.relay.ClusterRelayMain}).
 */
public final class OperatorMain {
    /** The operator's logging setup, shipped in its jar; -Dlogback.configurationFile overrides it. */
    static final String LOGGING = "porthole-operator-logback.xml";

    private OperatorMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", LOGGING);
        }
        if (args.length == 1 && "--self-check".equals(args[0])) {
            System.exit(SelfCheck.run(System.out, System.err));
            return;
        }
        if (args.length >= 1 && "relay".equals(args[0])) { // the same image runs the relay's own Deployment
            dev.porthole.operator.relay.ClusterRelayMain.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Logger log = LoggerFactory.getLogger(OperatorMain.class);
        OperatorSettings settings = OperatorSettings.fromEnvironment(System.getenv());
        KubernetesClient client = new KubernetesClientBuilder().build();
        PortholeMetrics metrics = new PortholeMetrics();
        AtomicReference<PortholeOperator> started = new AtomicReference<>();
        // probes answer from the first second: not live and not ready until the operator has started
        HealthServer http = HealthServer.start("0.0.0.0", settings.httpPort(), metrics::scrape,
                () -> started.get() != null && started.get().isLive(),
                () -> started.get() != null && started.get().isReady());
        PortholeOperator operator = PortholeOperator.start(client, settings, Clock.systemUTC(), RelayControl.NONE, metrics);
        started.set(operator);
        log.info("porthole operator started instance={} namespace={} relayAgents={} relayClients={} http={} leaderElection={}",
                settings.instance(), settings.namespace(), operator.endpoints().agentAddress(),
                operator.endpoints().clientAddress(), http.port(), settings.leaderElection());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            operator.close();
            http.close();
            client.close();
            stopped.countDown();
        }, "porthole-operator-stop"));
        stopped.await();
    }
}
