package dev.porthole.testcluster;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.RequestedBy;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;

/** {@code spec.requestedBy} for a test identity, as the API server authenticates it. */
public final class Creators {
    /** The group the API server adds, last, to every authenticated user. */
    public static final String AUTHENTICATED = "system:authenticated";

    /**
     * Who {@link TestCluster#admin()} is: the control plane's administrator certificate. {@link TestCluster} checks it
     * at start with a SelfSubjectReview, so a change there fails loudly rather than every test.
     */
    public static final RequestedBy CLUSTER_ADMIN = new RequestedBy(ControlPlane.ADMIN_USER, List.of("system:masters", AUTHENTICATED));

    private Creators() {
    }

    public static RequestedBy of(Identity id) {
        List<String> groups = new ArrayList<>(id.groups());
        groups.add(AUTHENTICATED);
        return new RequestedBy(id.username(), groups);
    }

    /** Sets {@code pf}'s creator to {@code id} and returns it. */
    public static PortForward stamp(PortForward pf, Identity id) {
        pf.getSpec().setRequestedBy(of(id));
        return pf;
    }

    /** The {@code requestedBy:} line of a spec in a YAML manifest (its value as JSON, which YAML reads, so any name fits). */
    public static String yaml(Identity id) {
        return "requestedBy: " + Serialization.asJson(of(id));
    }
}
