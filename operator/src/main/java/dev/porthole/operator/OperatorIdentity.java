package dev.porthole.operator;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The operator's least-privilege ClusterRole (shipped in this jar) and its binding to a
 * ServiceAccount, so local runs, tests and the demo use exactly the rights a cluster would grant.
 */
public final class OperatorIdentity {
    public static final String CLUSTER_ROLE_RESOURCE = "/META-INF/porthole/operator-clusterrole.yaml";
    public static final String SERVICE_ACCOUNT = "porthole-operator";
    public static final String USER_ROLE_RESOURCE = "/META-INF/porthole/user-clusterrole.yaml";

    private OperatorIdentity() {
    }

    public static ClusterRole clusterRole(KubernetesClient client) {
        return load(client, CLUSTER_ROLE_RESOURCE);
    }

    /** The role a cluster admin binds to let people create forwards and request client certificates. */
    public static ClusterRole userRole(KubernetesClient client) {
        return load(client, USER_ROLE_RESOURCE);
    }

    private static ClusterRole load(KubernetesClient client, String resource) {
        try (InputStream in = OperatorIdentity.class.getResourceAsStream(resource)) {
            return client.rbac().clusterRoles().load(in).item();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Applies the ClusterRole and binds it to {@code namespace/porthole-operator} (an admin client is needed). */
    public static void bind(KubernetesClient admin, String namespace) {
        ClusterRole role = clusterRole(admin);
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-operator-" + namespace).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(namespace).endSubject()
                .build()).forceConflicts().serverSideApply();
    }
}
