package dev.porthole.operator.authz;

import dev.porthole.api.v1alpha1.RequestedBy;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;

/**
 * Asks the API server, with a SubjectAccessReview, whether a forward's creator may themselves do what the
 * forward does: {@code create} on {@code pods/portforward} for the resolved pod, the right behind
 * {@code kubectl port-forward}. The admission policy asks the same at creation; the operator asks again
 * before every injection and whenever it re-resolves the target, because rights are revoked, selectors
 * move to new pods, and a cluster may lack the policy.
 */
public class CreatorAuthorization {
    private final KubernetesClient client;

    public CreatorAuthorization(KubernetesClient client) {
        this.client = client;
    }

    /** Empty when {@code creator} may port-forward to {@code namespace/pod}; otherwise why not, in words. */
    public Optional<String> refusal(RequestedBy creator, String namespace, String pod) {
        SubjectAccessReview review = new SubjectAccessReviewBuilder().withNewSpec()
                .withUser(creator.getUser())
                .withGroups(creator.groupList())
                .withNewResourceAttributes()
                .withGroup("").withResource("pods").withSubresource("portforward").withVerb("create")
                .withNamespace(namespace).withName(pod)
                .endResourceAttributes()
                .endSpec().build();
        SubjectAccessReview answer = client.authorization().v1().subjectAccessReview().create(review);
        if (answer.getStatus() != null && Boolean.TRUE.equals(answer.getStatus().getAllowed())) {
            return Optional.empty();
        }
        return Optional.of(message(creator.getUser(), namespace, pod));
    }

    /** The refusal as the admission policy words it, so a user reads the same sentence from either check. */
    public static String message(String user, String namespace, String pod) {
        return user + " may not forward to pod " + pod + " in namespace " + namespace
                + " (needs create on pods/portforward)";
    }
}
