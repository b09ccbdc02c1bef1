package dev.porthole.testcluster;

import dev.porthole.api.admission.CreatorAdmissionPolicy;
import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.api.v1alpha1.Target;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.List;

/**
 * Installs Porthole's creator admission policy (from the CRD jar, as the Helm chart would) and waits
 * until the API server enforces it: a policy is picked up asynchronously, and a forward created in
 * between would be admitted unchecked.
 */
public final class CreatorAdmission {
    private static final Duration ENFORCED_WITHIN = Duration.ofSeconds(30);

    private CreatorAdmission() {
    }

    public static void install(KubernetesClient admin) {
        for (HasMetadata item : load(admin)) {
            admin.resource(item).forceConflicts().serverSideApply();
        }
        awaitEnforced(admin, true);
        awaitLaterSecond(admin);
    }

    /**
     * Creation timestamps have whole seconds, and the operator trusts a forward's creator only if the policy
     * was in force strictly before the forward's creation second; so nothing is created in the binding's own second.
     */
    private static void awaitLaterSecond(KubernetesClient admin) {
        Instant created = Instant.parse(admin.admissionRegistration().v1().validatingAdmissionPolicyBindings()
                .withName(CreatorAdmissionPolicy.BINDING_NAME).get().getMetadata().getCreationTimestamp());
        pollUntil(() -> Instant.now().isAfter(created.plusSeconds(1)), "the second after the binding's creation");
    }

    /** Removes the binding (the policy stays, unbound), as on a cluster where the chart's policy is missing. */
    public static void removeBinding(KubernetesClient admin) {
        admin.admissionRegistration().v1().validatingAdmissionPolicyBindings()
                .withName(CreatorAdmissionPolicy.BINDING_NAME).withTimeout(30, java.util.concurrent.TimeUnit.SECONDS).delete();
        awaitEnforced(admin, false);
    }

    /** Removes the policy and its binding, e.g. so that a Helm release can install its own. */
    public static void uninstall(KubernetesClient admin) {
        var admission = admin.admissionRegistration().v1();
        admission.validatingAdmissionPolicyBindings().withName(CreatorAdmissionPolicy.BINDING_NAME)
                .withTimeout(30, java.util.concurrent.TimeUnit.SECONDS).delete();
        admission.validatingAdmissionPolicies().withName(CreatorAdmissionPolicy.POLICY_NAME)
                .withTimeout(30, java.util.concurrent.TimeUnit.SECONDS).delete();
        awaitEnforced(admin, false);
    }

    /** Waits until a policy installed by someone else (a Helm release) is enforced and was in force for a second. */
    public static void awaitInstalled(KubernetesClient admin) {
        awaitEnforced(admin, true);
        awaitLaterSecond(admin);
    }

    private static List<HasMetadata> load(KubernetesClient admin) {
        try (InputStream in = CreatorAdmission.class.getResourceAsStream(CreatorAdmissionPolicy.RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(CreatorAdmissionPolicy.RESOURCE + " is not on the classpath (porthole-crds)");
            }
            return admin.load(in).items();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Probes with a server-side dry run of a forward that names no creator until it is refused (or admitted). */
    private static void awaitEnforced(KubernetesClient admin, boolean enforced) {
        pollUntil(() -> refusesProbe(admin) == enforced, "the creator admission policy " + (enforced ? "enforced" : "lifted"));
    }

    private static boolean refusesProbe(KubernetesClient admin) {
        try {
            admin.resource(probe()).dryRun().create();
            return false;
        } catch (KubernetesClientException e) {
            if (e.getMessage() == null || !e.getMessage().contains("spec.requestedBy")) {
                throw e;
            }
            return true;
        }
    }

    private static void pollUntil(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + ENFORCED_WITHIN.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("waited " + ENFORCED_WITHIN.toSeconds() + " s in vain for " + what);
            }
            try {
                Thread.sleep(100); // the API server offers no watch for either condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static PortForward probe() {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withName("admission-probe").withNamespace("default").build());
        PortForwardSpec spec = new PortForwardSpec();
        spec.setTarget(Target.pod("probe", new IntOrString(1)));
        spec.setAudience(Audience.users("nobody"));
        spec.setTtl("1m");
        pf.setSpec(spec);
        return pf;
    }
}
