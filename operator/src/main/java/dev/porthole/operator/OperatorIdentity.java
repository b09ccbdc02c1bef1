package dev.porthole.operator;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The operator's least-privilege roles (shipped in this jar): a ClusterRole for what it does in every
 * namespace, a Role for what it does only in its own, and the Role leader election adds; and their
 * binding to a ServiceAccount, so local runs, tests and the demo use exactly the rights a cluster would
 * grant. The Helm chart renders the same rules (helm-test's ChartRenderIT proves it).
 */
public final class OperatorIdentity {
    public static final String CLUSTER_ROLE_RESOURCE = "/META-INF/porthole/operator-clusterrole.yaml";
    public static final String SERVICE_ACCOUNT = "porthole-operator";
    public static final String CONNECT_ROLE_RESOURCE = "/META-INF/porthole/connect-clusterrole.yaml";
    public static final String REQUESTER_ROLE_RESOURCE = "/META-INF/porthole/requester-clusterrole.yaml";
    public static final String NAMESPACE_ROLE_RESOURCE = "/META-INF/porthole/operator-role.yaml";
    public static final String LEADER_ELECTION_ROLE_RESOURCE = "/META-INF/porthole/operator-leader-election-role.yaml";
    public static final String RELAY_ROLE_RESOURCE = "/META-INF/porthole/relay-clusterrole.yaml";
    public static final String RELAY_SERVICE_ACCOUNT = "porthole-relay";

    private OperatorIdentity() {
    }

    public static ClusterRole clusterRole(KubernetesClient client) {
        return load(client, CLUSTER_ROLE_RESOURCE);
    }

    /**
     * The role a cluster admin binds cluster-wide to let people connect: request client certificates and
     * read a forward by name.
     */
    public static ClusterRole connectRole(KubernetesClient client) {
        return load(client, CONNECT_ROLE_RESOURCE);
    }

    /** The role a cluster admin binds in a namespace to let people ask for forwards there. */
    public static ClusterRole requesterRole(KubernetesClient client) {
        return load(client, REQUESTER_ROLE_RESOURCE);
    }

    /** What the operator needs only in its own namespace (the CA and relay certificate Secrets). */
    public static Role namespaceRole(KubernetesClient client) {
        return loadRole(client, NAMESPACE_ROLE_RESOURCE);
    }

    /** What leader election adds in the operator's namespace (its Lease, the relay leader label on its pod). */
    public static Role leaderElectionRole(KubernetesClient client) {
        return loadRole(client, LEADER_ELECTION_ROLE_RESOURCE);
    }

    private static ClusterRole load(KubernetesClient client, String resource) {
        try (InputStream in = OperatorIdentity.class.getResourceAsStream(resource)) {
            return client.rbac().clusterRoles().load(in).item();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Role loadRole(KubernetesClient client, String resource) {
        try (InputStream in = OperatorIdentity.class.getResourceAsStream(resource)) {
            return client.rbac().roles().load(in).item();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Applies the connect ClusterRole and binds it cluster-wide to the user {@code username}, as a cluster
     * admin would for the people who may connect.
     */
    public static void bindConnect(KubernetesClient admin, String username) {
        bindClusterWide(admin, connectRole(admin), username);
    }

    /**
     * For local runs and tests, whose forwards live in namespaces made on the fly: {@link #bindConnect}, and
     * the requester role bound cluster-wide (a ClusterRoleBinding) rather than per namespace as a cluster
     * would bind it.
     */
    public static void bindUser(KubernetesClient admin, String username) {
        bindConnect(admin, username);
        bindClusterWide(admin, requesterRole(admin), username);
    }

    private static void bindClusterWide(KubernetesClient admin, ClusterRole role, String username) {
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder()
                .withNewMetadata().withName(role.getMetadata().getName() + "-" + bindingSuffix(username)).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(username).endSubject()
                .build()).forceConflicts().serverSideApply();
    }

    /**
     * The user name itself when it can be part of an object name, else a digest of it: user names may
     * hold anything (spaces, punctuation, non-ASCII), object names may not.
     */
    static String bindingSuffix(String username) {
        if (username.matches("[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?")) {
            return username;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(username.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + HexFormat.of().formatHex(digest, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Applies the ClusterRole and the namespace Role and binds both to {@code namespace/porthole-operator}
     * (an admin client is needed). Without leader election, as a single operator runs.
     */
    public static void bind(KubernetesClient admin, String namespace) {
        ClusterRole role = clusterRole(admin);
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-operator-" + namespace).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(namespace).endSubject()
                .build()).forceConflicts().serverSideApply();
        bindInNamespace(admin, namespace, namespaceRole(admin));
    }

    /** The rights of a relay running apart from the operator: read forwards and policies, write Events. */
    public static ClusterRole relayRole(KubernetesClient client) {
        return load(client, RELAY_ROLE_RESOURCE);
    }

    /**
     * Applies the relay's ClusterRole and binds it to {@code namespace/porthole-relay}, the ServiceAccount a relay running
     * apart uses (an admin client is needed).
     */
    public static void bindRelay(KubernetesClient admin, String namespace) {
        ClusterRole role = relayRole(admin);
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("porthole-relay-" + namespace).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role.getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName(RELAY_SERVICE_ACCOUNT).withNamespace(namespace)
                .endSubject().build()).forceConflicts().serverSideApply();
    }

    /** As {@link #bind(KubernetesClient, String)}, plus the leader election Role. */
    public static void bindWithLeaderElection(KubernetesClient admin, String namespace) {
        bind(admin, namespace);
        bindInNamespace(admin, namespace, leaderElectionRole(admin));
    }

    private static void bindInNamespace(KubernetesClient admin, String namespace, Role role) {
        role.getMetadata().setNamespace(namespace);
        admin.resource(role).forceConflicts().serverSideApply();
        admin.resource(new RoleBindingBuilder().withNewMetadata().withName(role.getMetadata().getName())
                .withNamespace(namespace).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", role.getMetadata().getName())
                .addNewSubject().withKind("ServiceAccount").withName(SERVICE_ACCOUNT).withNamespace(namespace).endSubject()
                .build()).forceConflicts().serverSideApply();
    }
}
