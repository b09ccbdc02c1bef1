package dev.porthole.operator.relay;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.protocol.ForwardRef;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.Optional;

/**
 * The relay's view of the forwards: an informer's cache, so no agent or client connection costs an API request. A
 * change (a narrowed audience, a rejection, a deletion) reaches it with the watch, typically within milliseconds; a
 * live session is cut by the operator's own decision, not by this cache.
 */
public final class ForwardCache implements AutoCloseable {
    private final SharedIndexInformer<PortForward> informer;

    private ForwardCache(SharedIndexInformer<PortForward> informer) {
        this.informer = informer;
    }

    /** Starts watching every forward the client may read, and returns once the cache holds them all. */
    public static ForwardCache start(KubernetesClient client) {
        return new ForwardCache(client.resources(PortForward.class).inAnyNamespace().inform());
    }

    public Optional<PortForward> find(ForwardRef forward) {
        return Optional.ofNullable(informer.getStore().getByKey(Cache.namespaceKeyFunc(forward.namespace(), forward.name())));
    }

    /** Tells {@code handler} of every change the watch brings. */
    void onChange(io.fabric8.kubernetes.client.informers.ResourceEventHandler<PortForward> handler) {
        informer.addEventHandler(handler);
    }

    @Override
    public void close() {
        informer.close();
    }
}
