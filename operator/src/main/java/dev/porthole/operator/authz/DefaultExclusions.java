package dev.porthole.operator.authz;

import dev.porthole.api.v1alpha1.Exclusion;
import dev.porthole.operator.policy.EffectivePolicy;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Targets refused even to a creator who may port-forward to them, unless every PortForwardPolicy governing
 * the namespace lifts the exclusion by name ({@link Exclusion}): a forward outlives a {@code kubectl
 * port-forward}, can be handed to an audience, and reaching the cluster's own machinery through one is
 * rarely what anyone meant.
 */
public class DefaultExclusions {
    /** The label every pod of the Porthole chart carries. */
    public static final String PART_OF_LABEL = "app.kubernetes.io/part-of";
    public static final String PART_OF_PORTHOLE = "porthole";
    static final String KUBE_SYSTEM = "kube-system";

    private final String operatorNamespace;
    private final String operatorPod;

    /** {@code operatorPod} is this operator's own pod name when it runs in one (else any non-pod name). */
    public DefaultExclusions(String operatorNamespace, String operatorPod) {
        this.operatorNamespace = operatorNamespace;
        this.operatorPod = operatorPod;
    }

    /** The exclusions the namespace alone triggers, before any pod is known. */
    public List<String> forNamespace(String namespace, EffectivePolicy policy) {
        List<String> out = new ArrayList<>();
        if (KUBE_SYSTEM.equals(namespace) && !policy.lifts(Exclusion.KubeSystem)) {
            out.add("namespace kube-system is excluded by default (the cluster's own components and their credentials); "
                    + "a PortForwardPolicy governing it must lift KubeSystem");
        }
        if (operatorNamespace.equals(namespace) && !policy.lifts(Exclusion.OperatorNamespace)) {
            out.add("namespace " + namespace + " is the Porthole operator's own and is excluded by default (its CA key "
                    + "lives there); a PortForwardPolicy governing it must lift OperatorNamespace");
        }
        return out;
    }

    /** The exclusions the resolved pod triggers. */
    public List<String> forPod(Pod pod, EffectivePolicy policy) {
        List<String> out = new ArrayList<>();
        String name = pod.getMetadata().getName();
        if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork()) && !policy.lifts(Exclusion.HostNetwork)) {
            out.add("pod " + name + " uses hostNetwork, so its 127.0.0.1 is the node's loopback; excluded by default, "
                    + "a PortForwardPolicy must lift HostNetwork");
        }
        if (isPortholePod(pod) && !policy.lifts(Exclusion.PortholePods)) {
            out.add("pod " + name + " is one of Porthole's own operator or relay pods; excluded by default, "
                    + "a PortForwardPolicy must lift PortholePods");
        }
        return out;
    }

    private boolean isPortholePod(Pod pod) {
        Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
        boolean ownPod = operatorNamespace.equals(pod.getMetadata().getNamespace()) && operatorPod.equals(pod.getMetadata().getName());
        return ownPod || PART_OF_PORTHOLE.equals(labels.get(PART_OF_LABEL));
    }
}
