package dev.porthole.operator.reconcile;

import io.fabric8.kubernetes.api.model.Pod;

/** The pod a forward reaches and the numeric port inside it. */
public record ResolvedTarget(Pod pod, int port) {
    public String podName() {
        return pod.getMetadata().getName();
    }

    public String describe() {
        return "pod/" + podName() + ":" + port;
    }
}
