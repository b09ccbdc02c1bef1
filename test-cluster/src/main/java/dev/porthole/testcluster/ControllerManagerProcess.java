package dev.porthole.testcluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * kube-controller-manager. Without a node it runs only the garbage collector and namespace controllers, so
 * deleting an owner deletes what it owns and deleting a namespace empties it. Beside a real node it runs the
 * full controller set (Deployments, ReplicaSets, EndpointSlices, service accounts and their tokens), each under
 * its own service account as in a real cluster, and signs service-account tokens with the cluster's key.
 */
final class ControllerManagerProcess implements AutoCloseable {
    private static final String GC_SYNCED = "all resource monitors have synced";
    // Controllers a single local node has no use for: clouds, node IPAM (the node's CNI allocates pod IPs),
    // volume binding, and CSR signing (Porthole signs its own signer's requests; the kubelet has its certificate).
    private static final String NODE_CONTROLLERS = "*,-certificatesigningrequest-signing-controller,"
            + "-certificatesigningrequest-approving-controller,-node-ipam-controller,-cloud-node-lifecycle-controller,"
            + "-service-lb-controller,-node-route-controller,-persistentvolume-binder-controller,"
            + "-persistentvolume-attach-detach-controller,-persistentvolume-expander-controller";

    private final ComponentProcess process;

    private ControllerManagerProcess(ComponentProcess process) {
        this.process = process;
    }

    static ControllerManagerProcess start(Path binary, ControlPlane controlPlane, Path workDir) {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--leader-elect=false", "--secure-port=0",
                "--concurrent-gc-syncs=10", "-v=2"));
        if (controlPlane.shape().node()) {
            Path kubeconfig = controlPlane.componentKubeconfig(workDir, "kube-controller-manager",
                    "system:kube-controller-manager", List.of());
            cmd.addAll(List.of("--kubeconfig=" + kubeconfig, "--controllers=" + NODE_CONTROLLERS,
                    "--use-service-account-credentials=true",
                    "--service-account-private-key-file=" + controlPlane.pki().caCertificate().resolveSibling("sa.key"),
                    "--root-ca-file=" + controlPlane.pki().caCertificate(),
                    "--service-cluster-ip-range=" + controlPlane.shape().serviceCidr()));
        } else {
            cmd.addAll(List.of("--kubeconfig=" + controlPlane.adminKubeconfig(), "--controllers=garbagecollector,namespace",
                    "--use-service-account-credentials=false"));
        }
        return new ControllerManagerProcess(ComponentProcess.start("kube-controller-manager", cmd,
                workDir.resolve("kube-controller-manager.log"), line -> line.contains(GC_SYNCED)));
    }

    void awaitGarbageCollectorSynced(Duration timeout) {
        process.awaitMarker(timeout, "sync its garbage collector");
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        process.close();
    }
}
