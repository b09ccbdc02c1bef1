package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.protocol.pki.Pem;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;

/** Reads from a forward's status where its relay is, which CA to pin, and how long the forward lives. */
public record ForwardRelayInfo(String relayHost, int relayPort, X509Certificate ca, Duration remaining) {

    public static ForwardRelayInfo of(KubernetesClient client, ForwardRef forward) {
        PortForward pf;
        try {
            pf = client.resources(PortForward.class).inNamespace(forward.namespace()).withName(forward.name()).get();
        } catch (KubernetesClientException e) {
            throw new ForwarderException("could not read forward " + forward + ": " + e.getMessage());
        }
        if (pf == null) {
            throw new ForwarderException("forward " + forward + " does not exist (expired, revoked, or never created)");
        }
        if (pf.getStatus() == null || pf.getStatus().getRelay() == null || pf.getStatus().getRelay().getAddress() == null) {
            String phase = pf.getStatus() == null || pf.getStatus().getPhase() == null ? "Pending" : pf.getStatus().getPhase().name();
            String why = pf.getStatus() == null || pf.getStatus().getMessage() == null ? "" : ": " + pf.getStatus().getMessage();
            throw new ForwarderException("forward " + forward + " is " + phase + why);
        }
        // a Cluster-scope forward is used only from inside the cluster: through the relay's in-cluster listener
        boolean clusterScope = pf.getSpec() != null && pf.getSpec().effectiveBindScope() == BindScope.Cluster;
        String inCluster = pf.getStatus().getRelay().getInClusterAddress();
        String address = clusterScope && inCluster != null ? inCluster : pf.getStatus().getRelay().getAddress();
        int colon = address.lastIndexOf(':');
        Duration remaining = pf.getStatus().getExpiresAt() == null ? Duration.ofHours(1)
                : Duration.between(Instant.now(), Instant.parse(pf.getStatus().getExpiresAt()));
        return new ForwardRelayInfo(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)),
                Pem.readCertificate(pf.getStatus().getRelay().getCaBundle()), remaining);
    }
}
