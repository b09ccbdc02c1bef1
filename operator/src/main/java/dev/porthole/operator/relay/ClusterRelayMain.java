package dev.porthole.operator.relay;

import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.metrics.HealthServer;
import dev.porthole.operator.metrics.PortholeMetrics;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay as its own Deployment: the same relay the operator can run in its process, with its own ServiceAccount,
 * which may read PortForwards and PortForwardPolicies and write Events, nothing else. It holds its serving key and the
 * CA's certificate from a mounted Secret (the operator issues both; the relay's ServiceAccount cannot read Secrets),
 * cuts sessions itself when it sees a forward deleted or rejected, and reports agents and sessions as Events, from
 * which the operator learns them. Restarting or upgrading the operator cuts nothing.
 *
 * <p>Configured by the operator's relay variables ({@link OperatorSettings#fromEnvironment}: ports, external listener,
 * drain, HTTP port, {@code POD_NAME}) and {@code PORTHOLE_RELAY_TLS_DIR} (default {@value #DEFAULT_TLS_DIR}), which
 * holds {@code tls.crt} (the relay's chain, ending with the Porthole CA) and {@code tls.key}.
 */
public final class ClusterRelayMain {
    static final String DEFAULT_TLS_DIR = "/etc/porthole/relay-tls";

    private ClusterRelayMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "porthole-operator-logback.xml");
        }
        Logger log = LoggerFactory.getLogger(ClusterRelayMain.class);
        Map<String, String> env = System.getenv();
        OperatorSettings settings = OperatorSettings.fromEnvironment(env);
        Path tls = Path.of(env.getOrDefault("PORTHOLE_RELAY_TLS_DIR", DEFAULT_TLS_DIR));
        KeyMaterial serverKey = awaitKey(tls, log);
        X509Certificate ca = serverKey.chain().get(serverKey.chain().size() - 1);
        KubernetesClient client = new KubernetesClientBuilder().build();
        PortholeMetrics metrics = new PortholeMetrics();
        AtomicReference<RelayBridge> started = new AtomicReference<>();
        HealthServer http = HealthServer.start("0.0.0.0", settings.httpPort(), metrics::scrape,
                () -> started.get() != null, () -> started.get() != null);
        RelayBridge relay = start(client, settings, serverKey, ca, Clock.systemUTC(), metrics);
        started.set(relay);
        log.atInfo().addKeyValue("instance", settings.instance()).addKeyValue("agentPort", relay.server().agentPort())
                .addKeyValue("clientPort", relay.server().clientPort()).addKeyValue("http", http.port())
                .log("porthole relay started");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            relay.drain(settings.relayDrain());
            http.close();
            client.close();
            stopped.countDown();
        }, "porthole-relay-stop"));
        stopped.await();
    }

    /**
     * The serving key from the mounted Secret, once the operator has issued it: the chart creates the Secret empty, the
     * operator fills it at its start, and the kubelet refreshes the mounted files within a minute or so.
     */
    static KeyMaterial awaitKey(Path tls, Logger log) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return KeyMaterial.fromFiles(tls.resolve("tls.crt"), tls.resolve("tls.key"));
            } catch (RuntimeException notYet) {
                if (attempt % 10 == 0) {
                    log.atInfo().addKeyValue("dir", tls).addKeyValue("error", notYet.getMessage())
                            .log("waiting for the operator to issue the relay certificate");
                }
                Thread.sleep(1000);
            }
        }
    }

    /** Starts the relay with {@code client}'s rights (the relay's ServiceAccount in a cluster). */
    public static RelayBridge start(KubernetesClient client, OperatorSettings settings, KeyMaterial serverKey,
                                    X509Certificate ca, Clock clock, PortholeMetrics metrics) {
        AuditRecorder audit = new AuditRecorder(client, clock, settings.instance(), AuditRecorder.RELAY, metrics);
        RelayBridge relay = RelayBridge.start(client, audit, ca, serverKey, settings.relayBindAddress(),
                settings.relayAgentPort(), settings.relayClientPort(), settings.relayExternalClientPort(),
                settings.relayExternalClientAddresses(), clock, metrics).closeOnForwardChanges(clock);
        metrics.trackRelay(() -> relay.server().stats());
        return relay;
    }
}
