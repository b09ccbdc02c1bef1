package dev.porthole.operator.support;

import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.api.v1alpha1.Target;
import dev.porthole.testcluster.Creators;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/** Builders and lookups for forwards in tests. */
public final class Forwards {
    private Forwards() {
    }

    public static PortForward toPod(String ns, String name, String pod, int port, String ttl) {
        return forward(ns, name, Target.pod(pod, new IntOrString(port)), ttl);
    }

    public static PortForward forward(String ns, String name, Target target, String ttl) {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        PortForwardSpec spec = new PortForwardSpec();
        spec.setTarget(target);
        spec.setAudience(Audience.users("alice"));
        spec.setTtl(ttl);
        spec.setReason("test");
        // the tests create forwards with the cluster admin client, who may port-forward anywhere
        spec.setRequestedBy(Creators.CLUSTER_ADMIN);
        pf.setSpec(spec);
        return pf;
    }

    /** Waits up to {@code within} until the forward exists with {@code phase}, and returns it. */
    public static PortForward awaitPhase(KubernetesClient admin, String ns, String name, Phase phase, Duration within) {
        return await().atMost(within).until(() -> admin.resources(PortForward.class).inNamespace(ns).withName(name).get(),
                pf -> pf != null && pf.getStatus() != null && pf.getStatus().getPhase() == phase);
    }

    /** The reasons of this forward's audit Events, oldest first. */
    public static List<String> eventReasons(KubernetesClient admin, String ns, String forward) {
        return events(admin, ns, forward).stream().map(Event::getReason).toList();
    }

    public static List<Event> events(KubernetesClient admin, String ns, String forward) {
        return admin.events().v1().events().inNamespace(ns).withLabel("porthole.dev/forward", forward).list().getItems()
                .stream().sorted(Comparator.comparing(e -> e.getEventTime().getTime())).toList();
    }
}
