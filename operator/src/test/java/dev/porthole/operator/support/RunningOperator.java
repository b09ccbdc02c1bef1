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
        stop();
    }
}
