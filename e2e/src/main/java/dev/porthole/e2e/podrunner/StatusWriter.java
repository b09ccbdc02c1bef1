package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes a pod's status subresource from the runner's view of it ({@link PodStatusFactory}). */
final class StatusWriter {
    private static final Logger log = LoggerFactory.getLogger(StatusWriter.class);

    private final KubernetesClient client;
    private final String hostIp;
    private final Clock clock;

    StatusWriter(KubernetesClient client, String hostIp, Clock clock) {
        this.client = client;
        this.hostIp = hostIp;
        this.clock = clock;
    }

    void write(LocalPod pod) {
        try {
            client.pods().inNamespace(pod.namespace()).withName(pod.name()).editStatus(current -> {
                if (current.getMetadata().getUid() != null && !current.getMetadata().getUid().equals(pod.uid())) {
                    return current;
                }
                PodStatus status = PodStatusFactory.build(current.getStatus(), pod, hostIp, clock.instant());
                return new PodBuilder(current).withStatus(status).build();
            });
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return;
            }
            log.atWarn().addKeyValue("pod", pod.namespace() + "/" + pod.name()).addKeyValue("code", e.getCode())
                    .log("cannot write pod status: {}", e.getMessage());
        }
    }
}
