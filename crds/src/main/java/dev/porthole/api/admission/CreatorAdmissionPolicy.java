package dev.porthole.api.admission;

/**
 * The ValidatingAdmissionPolicy and binding that decide, in the API server, who may create a forward
 * ({@value #RESOURCE} in this jar; the Helm chart renders the same). One per cluster, like the CRDs.
 */
public final class CreatorAdmissionPolicy {
    /** Classpath resource holding the policy and its binding, as two YAML documents. */
    public static final String RESOURCE = "/META-INF/porthole/creator-admission-policy.yaml";
    public static final String POLICY_NAME = "porthole-creator";
    public static final String BINDING_NAME = "porthole-creator";

    private CreatorAdmissionPolicy() {
    }
}
