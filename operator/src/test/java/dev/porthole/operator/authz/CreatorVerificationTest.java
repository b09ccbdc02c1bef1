package dev.porthole.operator.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.api.v1alpha1.RequestedBy;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBindingBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBuilder;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The cases the control-plane test cannot stage cheaply: a weakened policy or binding. */
class CreatorVerificationTest {
    private static final String BEFORE = "2026-12-01T10:00:00Z";
    private static final String CREATED = "2026-12-01T10:05:00Z";

    @Test
    @DisplayName("the shipped policy, bound with Deny before the forward was created, verifies its creator")
    void verified() {
        assertThat(verification(shippedPolicy(BEFORE), binding(BEFORE, List.of("Deny"))).whyUnverified(forward("alice"))).isEmpty();
    }

    @Test
    @DisplayName("a forward without requestedBy, or created in the binding's own second, is unverified")
    void missingCreatorOrTooEarly() {
        assertThat(verification(shippedPolicy(BEFORE), binding(BEFORE, List.of("Deny"))).whyUnverified(forward(null)))
                .get().asString().startsWith("the forward names no creator");
        assertThat(verification(shippedPolicy(BEFORE), binding(CREATED, List.of("Deny"))).whyUnverified(forward("alice")))
                .get().asString().contains("in force only since " + CREATED);
    }

    @Test
    @DisplayName("a binding that only warns or audits, or a policy edited to allow more, verifies nobody")
    void weakened() {
        assertThat(verification(shippedPolicy(BEFORE), binding(BEFORE, List.of("Warn", "Audit"))).whyUnverified(forward("alice")))
                .get().asString().contains("does not deny");
        ValidatingAdmissionPolicy edited = shippedPolicy(BEFORE);
        edited.getSpec().getValidations().get(1).setExpression("true");
        assertThat(verification(edited, binding(BEFORE, List.of("Deny"))).whyUnverified(forward("alice")))
                .get().asString().contains("differs from the one this Porthole version ships");
        ValidatingAdmissionPolicy ignoring = shippedPolicy(BEFORE);
        ignoring.getSpec().setFailurePolicy("Ignore");
        assertThat(verification(ignoring, binding(BEFORE, List.of("Deny"))).whyUnverified(forward("alice"))).isPresent();
        assertThat(new CreatorVerification(Optional::empty, Optional::empty).whyUnverified(forward("alice")))
                .get().asString().contains("is missing from the cluster");
    }

    private static CreatorVerification verification(ValidatingAdmissionPolicy p, ValidatingAdmissionPolicyBinding b) {
        return new CreatorVerification(() -> Optional.of(p), () -> Optional.of(b));
    }

    private static ValidatingAdmissionPolicy shippedPolicy(String created) {
        ValidatingAdmissionPolicy p = new ValidatingAdmissionPolicyBuilder(CreatorVerification.shipped()).build();
        p.getMetadata().setCreationTimestamp(created);
        return p;
    }

    private static ValidatingAdmissionPolicyBinding binding(String created, List<String> actions) {
        return new ValidatingAdmissionPolicyBindingBuilder().withNewMetadata().withName("porthole-creator")
                .withCreationTimestamp(created).endMetadata().withNewSpec().withPolicyName("porthole-creator")
                .withValidationActions(actions).endSpec().build();
    }

    private static PortForward forward(String creator) {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withName("db").withNamespace("shop").withCreationTimestamp(CREATED).build());
        PortForwardSpec spec = new PortForwardSpec();
        spec.setRequestedBy(creator == null ? null : new RequestedBy(creator, List.of("system:authenticated")));
        pf.setSpec(spec);
        return pf;
    }
}
