package dev.porthole.operator.authz;

import dev.porthole.api.admission.CreatorAdmissionPolicy;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.RequestedBy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.Validation;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether a forward's {@code spec.requestedBy} can be trusted. The API server alone knows who sent a
 * request; it wrote nothing down unless Porthole's admission policy compared requestedBy with the
 * requester. So a creator is verified only when the forward names one and the policy (exactly the one
 * this operator ships, failing closed) and its Deny binding were both in force before the forward was
 * created. Otherwise anyone who could write a PortForward while the policy was missing could have named
 * someone more powerful, and the operator would act on that name.
 */
public class CreatorVerification {
    private final Supplier<Optional<ValidatingAdmissionPolicy>> policy;
    private final Supplier<Optional<ValidatingAdmissionPolicyBinding>> binding;
    private final List<String> shippedExpressions;

    public CreatorVerification(Supplier<Optional<ValidatingAdmissionPolicy>> policy,
                               Supplier<Optional<ValidatingAdmissionPolicyBinding>> binding) {
        this.policy = policy;
        this.binding = binding;
        this.shippedExpressions = expressions(shipped());
    }

    /** Reads the policy and binding from the API server on each check. */
    public static CreatorVerification from(KubernetesClient client) {
        var admission = client.admissionRegistration().v1();
        return new CreatorVerification(
                () -> Optional.ofNullable(admission.validatingAdmissionPolicies().withName(CreatorAdmissionPolicy.POLICY_NAME).get()),
                () -> Optional.ofNullable(admission.validatingAdmissionPolicyBindings()
                        .withName(CreatorAdmissionPolicy.BINDING_NAME).get()));
    }

    /** Empty when the creator is verified; otherwise why not, in words a cluster admin can act on. */
    public Optional<String> whyUnverified(PortForward pf) {
        RequestedBy creator = pf.getSpec().getRequestedBy();
        if (creator == null || creator.getUser() == null || creator.getUser().isBlank()) {
            return Optional.of("the forward names no creator (spec.requestedBy): it was created without Porthole's admission "
                    + "policy " + CreatorAdmissionPolicy.POLICY_NAME + " in force; re-create it with the policy installed");
        }
        String who = "the creator " + creator.getUser() + " cannot be verified: ";
        Optional<ValidatingAdmissionPolicyBinding> b = binding.get();
        Optional<ValidatingAdmissionPolicy> p = policy.get();
        if (p.isEmpty() || b.isEmpty()) {
            return Optional.of(who + "the admission policy " + CreatorAdmissionPolicy.POLICY_NAME + " or its binding is missing "
                    + "from the cluster (install the Helm chart's admission policy), so nothing checked who created this forward");
        }
        if (!CreatorAdmissionPolicy.POLICY_NAME.equals(b.get().getSpec().getPolicyName())
                || b.get().getSpec().getValidationActions() == null
                || !b.get().getSpec().getValidationActions().contains("Deny")
                || b.get().getSpec().getMatchResources() != null && !isEmpty(b.get())) {
            return Optional.of(who + "the binding " + CreatorAdmissionPolicy.BINDING_NAME + " does not deny, or does not "
                    + "cover every namespace, with policy " + CreatorAdmissionPolicy.POLICY_NAME);
        }
        String failurePolicy = p.get().getSpec().getFailurePolicy();
        if (failurePolicy != null && !"Fail".equals(failurePolicy) || !shippedExpressions.equals(expressions(p.get()))) {
            return Optional.of(who + "the admission policy " + CreatorAdmissionPolicy.POLICY_NAME
                    + " differs from the one this Porthole version ships");
        }
        Instant created = Instant.parse(pf.getMetadata().getCreationTimestamp());
        Instant inForceSince = later(Instant.parse(p.get().getMetadata().getCreationTimestamp()),
                Instant.parse(b.get().getMetadata().getCreationTimestamp()));
        // creation timestamps have whole seconds: a forward in the same second as the binding may predate it
        if (!inForceSince.isBefore(created)) {
            return Optional.of(who + "the admission policy has been in force only since " + inForceSince
                    + ", not before the forward was created at " + created + "; re-create the forward");
        }
        return Optional.empty();
    }

    private static boolean isEmpty(ValidatingAdmissionPolicyBinding b) {
        var m = b.getSpec().getMatchResources();
        boolean noSelector = (m.getNamespaceSelector() == null || isEmptySelector(m.getNamespaceSelector()))
                && (m.getObjectSelector() == null || isEmptySelector(m.getObjectSelector()));
        return noSelector && (m.getExcludeResourceRules() == null || m.getExcludeResourceRules().isEmpty())
                && (m.getResourceRules() == null || m.getResourceRules().isEmpty());
    }

    private static boolean isEmptySelector(io.fabric8.kubernetes.api.model.LabelSelector s) {
        return (s.getMatchLabels() == null || s.getMatchLabels().isEmpty())
                && (s.getMatchExpressions() == null || s.getMatchExpressions().isEmpty());
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /** What decides the policy's verdict (what it matches, its variables and validations), for comparison. */
    private static List<String> expressions(ValidatingAdmissionPolicy p) {
        if (p.getSpec() == null) {
            return List.of();
        }
        List<String> out = new java.util.ArrayList<>();
        if (p.getSpec().getMatchConstraints() != null && p.getSpec().getMatchConstraints().getResourceRules() != null) {
            p.getSpec().getMatchConstraints().getResourceRules().forEach(r ->
                    out.add("match " + r.getApiGroups() + " " + r.getResources() + " " + r.getOperations()));
        }
        if (p.getSpec().getVariables() != null) {
            p.getSpec().getVariables().forEach(v -> out.add("variable " + v.getName() + "=" + v.getExpression().strip()));
        }
        List<Validation> validations = p.getSpec().getValidations() == null ? List.of() : p.getSpec().getValidations();
        validations.forEach(v -> out.add("validation " + v.getExpression().strip()));
        return out;
    }

    static ValidatingAdmissionPolicy shipped() {
        try (InputStream in = CreatorVerification.class.getResourceAsStream(CreatorAdmissionPolicy.RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CreatorAdmissionPolicy.RESOURCE + " is missing from the classpath");
            }
            String first = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("(?m)^---$")[0];
            return Serialization.unmarshal(first, ValidatingAdmissionPolicy.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
