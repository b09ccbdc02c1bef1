package dev.porthole.testcluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Deploys cluster DNS ({@code cluster-dns.yaml}: CoreDNS behind the kube-dns Service) onto the real node. */
final class ClusterDns {
    private ClusterDns() {
    }

    static void deploy(KubernetesClient admin, String image) {
        try (InputStream in = ClusterDns.class.getResourceAsStream("cluster-dns.yaml")) {
            for (HasMetadata item : admin.load(in).items()) {
                if (item instanceof Deployment d) {
                    d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
                }
                admin.resource(item).forceConflicts().serverSideApply();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void awaitReady(KubernetesClient admin, Duration timeout) {
        admin.apps().deployments().inNamespace("kube-system").withName("coredns").waitUntilCondition(
                d -> d != null && d.getStatus() != null && d.getStatus().getReadyReplicas() != null
                        && d.getStatus().getReadyReplicas() >= 1,
                timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
