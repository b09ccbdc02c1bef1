package dev.porthole.operator.support;

import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.PortholeOperator;
import dev.porthole.operator.RelayControl;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real operator against the local control plane, authenticated as a ServiceAccount (TokenRequest
 * token) bound to exactly the operator's ClusterRole from {@code src/main/k8s}, and nothing more.
 */
public final class RunningOperator implements AutoCloseable {
    public static final OperatorSettings SETTINGS =
            new OperatorSettings("127.0.0.1:7443", "porthole-agent:test", "", "operator-under-test");

    private final TestCluster cluster;
    private final KubernetesClient client;
    private final List<String> closedForwards = new CopyOnWriteArrayList<>();
    private PortholeOperator operator;

    private RunningOperator(TestCluster cluster, KubernetesClient client) {
        this.cluster = cluster;
        this.client = client;
    }

    public static RunningOperator start(TestCluster cluster) {
        KubernetesClient admin = cluster.admin();
        String ns = cluster.createNamespace("porthole-system");
        ClusterRole role;
        try (var in = new FileInputStream("src/main/k8s/operator-clusterrole.yaml")) {
            role = admin.rbac().clusterRoles().load(in).item();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-operator-" + ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName("porthole-operator").withNamespace(ns).endSubject()
                .build()).forceConflicts().serverSideApply();
        String token = cluster.serviceAccountToken(ns, "porthole-operator", Duration.ofHours(2));
        RunningOperator running = new RunningOperator(cluster, cluster.clientWithToken(token));
        running.restart();
        return running;
    }

    /** Starts the operator (again), as after a crash or a rollout: nothing carries over but the cluster. */
    public void restart() {
        stop();
        operator = PortholeOperator.start(client, SETTINGS, Clock.systemUTC(), (forward, reason) -> closedForwards.add(forward + ":" + reason));
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

    public KubernetesClient client() {
        return client;
    }

    @Override
    public void close() {
        stop();
    }
}
