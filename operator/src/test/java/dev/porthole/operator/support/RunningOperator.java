package dev.porthole.operator.support;

import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.PortholeOperator;
import dev.porthole.operator.OperatorIdentity;
import dev.porthole.operator.RelayControl;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real operator against the local control plane, authenticated as a ServiceAccount (TokenRequest
 * token) bound to exactly the operator's ClusterRole ({@link OperatorIdentity}), and nothing more.
 */
public final class RunningOperator implements AutoCloseable {
    public static final String AGENT_IMAGE = "porthole-agent:test";

    private final TestCluster cluster;
    private final KubernetesClient client;
    private final OperatorSettings settings;
    private final List<String> closedForwards = new CopyOnWriteArrayList<>();
    private PortholeOperator operator;
    /** The relay's own client (its ServiceAccount's token), when it runs apart; null otherwise. */
    private KubernetesClient relayClient;
    private dev.porthole.operator.relay.RelayBridge relay;

    private RunningOperator(TestCluster cluster, KubernetesClient client, OperatorSettings settings) {
        this.cluster = cluster;
        this.client = client;
        this.settings = settings;
    }

    public static RunningOperator start(TestCluster cluster) {
        String ns = cluster.createNamespace("porthole-system");
        OperatorIdentity.bind(cluster.admin(), ns);
        String token = cluster.serviceAccountToken(ns, OperatorIdentity.SERVICE_ACCOUNT, java.time.Duration.ofHours(2));
        OperatorSettings settings = new OperatorSettings(ns, "operator-under-test", AGENT_IMAGE, "127.0.0.1", 0, 0,
                "127.0.0.1", "127.0.0.1", List.of());
        RunningOperator running = new RunningOperator(cluster, cluster.clientWithToken(token), settings);
        running.restart();
        return running;
    }

    /**
     * The operator with the relay running apart ({@code RelayMode.SEPARATE}), as the chart's default installs it: the
     * operator binds nothing; the relay runs with the porthole-relay ServiceAccount bound to exactly the relay's
     * ClusterRole, and its serving key read from the Secret the operator issued (as the kubelet would mount it).
     */
    public static RunningOperator startWithSeparateRelay(TestCluster cluster) {
        String ns = cluster.createNamespace("porthole-system");
        OperatorIdentity.bind(cluster.admin(), ns);
        OperatorIdentity.bindRelay(cluster.admin(), ns);
        String token = cluster.serviceAccountToken(ns, OperatorIdentity.SERVICE_ACCOUNT, java.time.Duration.ofHours(2));
        int agentPort = dev.porthole.testcluster.FreePorts.next();
        int clientPort = dev.porthole.testcluster.FreePorts.next();
        OperatorSettings settings = new OperatorSettings(ns, "operator-under-test", AGENT_IMAGE, "127.0.0.1", agentPort,
                clientPort, "127.0.0.1", "127.0.0.1", List.of()).withSeparateRelay();
        RunningOperator running = new RunningOperator(cluster, cluster.clientWithToken(token), settings);
        running.restart();
        String relayToken = cluster.serviceAccountToken(ns, OperatorIdentity.RELAY_SERVICE_ACCOUNT,
                java.time.Duration.ofHours(2));
        running.relayClient = cluster.clientWithToken(relayToken);
        running.restartRelay();
        return running;
    }

    /** Starts the separate relay (again), as its Deployment would: nothing carries over but the cluster. */
    public void restartRelay() {
        stopRelay();
        io.fabric8.kubernetes.api.model.Secret tls = cluster.admin().secrets().inNamespace(settings.namespace())
                .withName(dev.porthole.operator.identity.CaStore.RELAY_SECRET).get();
        java.util.function.Function<String, String> data = key -> new String(java.util.Base64.getDecoder()
                .decode(tls.getData().get(key)), java.nio.charset.StandardCharsets.UTF_8);
        dev.porthole.protocol.pki.KeyMaterial key = dev.porthole.protocol.pki.KeyMaterial.fromPem(data.apply("tls.crt"),
                data.apply("tls.key"));
        relay = dev.porthole.operator.relay.ClusterRelayMain.start(relayClient, settings, key,
                key.chain().get(key.chain().size() - 1), Clock.systemUTC(), new dev.porthole.operator.metrics.PortholeMetrics());
    }

    public void stopRelay() {
        if (relay != null) {
            relay.close();
            relay = null;
        }
    }

    /** The relay: the operator's own, or the one running apart. */
    public dev.porthole.operator.relay.RelayBridge relay() {
        return relay != null ? relay : operator.relay();
    }

    /** The separate relay's client (its ServiceAccount), to check what it may do; null with the operator's relay. */
    public KubernetesClient relayClient() {
        return relayClient;
    }

    /** Starts the operator (again), as after a crash or a rollout: nothing carries over but the cluster. */
    public void restart() {
        stop();
        operator = PortholeOperator.start(client, settings, Clock.systemUTC(), (forward, reason, why) -> closedForwards.add(forward + ":" + why));
    }

    public void stop() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    /** "namespace/name:reason" for every closeForward the reconciler sent to the relay. */
    public List<String> closedForwards() {
        return closedForwards;
    }

    /** The running operator (its relay endpoints and CA); null while stopped. */
    public PortholeOperator operator() {
        return operator;
    }

    /** The operator's own namespace (where its CA lives; excluded as a target by default). */
    public String namespace() {
        return settings.namespace();
    }

    public KubernetesClient client() {
        return client;
    }

    @Override
    public void close() {
        stopRelay();
        stop();
    }
}
