package dev.porthole.operator.reconcile;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.Target;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Turns a forward's target into one Running and Ready pod and a numeric port. Among several matching
 * pods the choice is deterministic (oldest, then by name) so every reconcile picks the same one. Pods come from
 * {@link PodLookup} (the operator's informer cache); what the cache does not show yet (a pod created a moment
 * before its forward) is asked of the API server, so a cache that lags never makes a target look missing.
 */
public class TargetResolver {
    /** Where pods are looked up first. */
    public interface PodLookup {
        Optional<Pod> byName(String namespace, String name);

        List<Pod> bySelector(String namespace, Map<String, String> selector);
    }

    private final KubernetesClient client;
    private final PodLookup cache;

    public TargetResolver(KubernetesClient client, PodLookup cache) {
        this.client = client;
        this.cache = cache;
    }

    public ResolvedTarget resolve(PortForward pf) throws TargetUnavailableException {
        String ns = pf.getMetadata().getNamespace();
        Target t = pf.getSpec().getTarget();
        if (t.getPod() != null) {
            Pod pod = cache.byName(ns, t.getPod()).filter(TargetResolver::isRunningAndReady)
                    .orElseGet(() -> client.pods().inNamespace(ns).withName(t.getPod()).get());
            if (pod == null) {
                throw new TargetUnavailableException("pod " + t.getPod() + " does not exist in namespace " + ns);
            }
            requireReady(pod);
            return new ResolvedTarget(pod, containerPort(pod, t.getPort()));
        }
        if (t.getSelector() != null) {
            Pod pod = pick(ns, t.getSelector(), "selector " + t.getSelector());
            return new ResolvedTarget(pod, containerPort(pod, t.getPort()));
        }
        Service svc = client.services().inNamespace(ns).withName(t.getService()).get();
        if (svc == null) {
            throw new TargetUnavailableException("service " + t.getService() + " does not exist in namespace " + ns);
        }
        if (svc.getSpec().getSelector() == null || svc.getSpec().getSelector().isEmpty()) {
            throw new TargetUnavailableException("service " + t.getService() + " has no selector, so no pod to reach");
        }
        Pod pod = pick(ns, svc.getSpec().getSelector(), "service " + t.getService());
        return new ResolvedTarget(pod, containerPort(pod, servicePortToTarget(svc, t.getPort())));
    }

    private Pod pick(String ns, Map<String, String> selector, String what) throws TargetUnavailableException {
        List<Pod> ready = readyOldestFirst(cache.bySelector(ns, selector));
        if (ready.isEmpty()) {
            ready = readyOldestFirst(client.pods().inNamespace(ns).withLabels(selector).list().getItems());
        }
        if (ready.isEmpty()) {
            throw new TargetUnavailableException("no Running and Ready pod matches " + what + " in namespace " + ns);
        }
        return ready.get(0);
    }

    private static List<Pod> readyOldestFirst(List<Pod> pods) {
        return pods.stream()
                .filter(TargetResolver::isRunningAndReady)
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .sorted(Comparator.comparing((Pod p) -> p.getMetadata().getCreationTimestamp())
                        .thenComparing(p -> p.getMetadata().getName()))
                .toList();
    }

    private static void requireReady(Pod pod) throws TargetUnavailableException {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            throw new TargetUnavailableException("pod " + pod.getMetadata().getName() + " is being deleted");
        }
        if (!isRunningAndReady(pod)) {
            String phase = pod.getStatus() == null ? "Pending" : pod.getStatus().getPhase();
            throw new TargetUnavailableException("pod " + pod.getMetadata().getName() + " is not Running and Ready (phase "
                    + (phase == null ? "Pending" : phase) + ")");
        }
    }

    static boolean isRunningAndReady(Pod pod) {
        return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase())
                && pod.getStatus().getConditions() != null
                && pod.getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static IntOrString servicePortToTarget(Service svc, IntOrString requested) throws TargetUnavailableException {
        for (ServicePort sp : svc.getSpec().getPorts()) {
            boolean byNumber = requested.getIntVal() != null && Objects.equals(sp.getPort(), requested.getIntVal());
            boolean byName = requested.getStrVal() != null && requested.getStrVal().equals(sp.getName());
            if (byNumber || byName) {
                return sp.getTargetPort() != null ? sp.getTargetPort() : new IntOrString(sp.getPort());
            }
        }
        throw new TargetUnavailableException("service " + svc.getMetadata().getName() + " has no port "
                + (requested.getIntVal() != null ? requested.getIntVal() : requested.getStrVal()));
    }

    private static int containerPort(Pod pod, IntOrString port) throws TargetUnavailableException {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return pod.getSpec().getContainers().stream()
                .flatMap(c -> c.getPorts() == null ? java.util.stream.Stream.empty() : c.getPorts().stream())
                .filter(p -> port.getStrVal().equals(p.getName()))
                .map(p -> p.getContainerPort())
                .findFirst()
                .orElseThrow(() -> new TargetUnavailableException("pod " + pod.getMetadata().getName()
                        + " has no container port named " + port.getStrVal()));
    }
}
