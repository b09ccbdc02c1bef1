package dev.porthole.operator.reconcile;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import java.util.Objects;

/**
 * Which pod updates matter to the forwards that target the pod. An update that only adds ephemeral containers is the
 * echo of an injection (ours, or a {@code kubectl debug}): the container's start and end arrive later in the pod's
 * status, which is never filtered. Skipping the echo saves a reconcile pass (and its SubjectAccessReview) per
 * injection.
 */
final class PodChanges {
    private PodChanges() {
    }

    static boolean matter(Pod now, Pod before) {
        if (before == null || now.getSpec() == null || before.getSpec() == null) {
            return true;
        }
        return !Objects.equals(now.getStatus(), before.getStatus())
                || !Objects.equals(now.getMetadata().getLabels(), before.getMetadata().getLabels())
                || !Objects.equals(now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp())
                || !withoutEphemeralContainers(now).equals(withoutEphemeralContainers(before));
    }

    private static io.fabric8.kubernetes.api.model.PodSpec withoutEphemeralContainers(Pod pod) {
        return new PodSpecBuilder(pod.getSpec()).withEphemeralContainers().build();
    }
}
