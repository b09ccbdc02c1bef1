package dev.porthole.testcluster;

import java.nio.file.Path;

/** The configuration files of the node's processes; each setting that is not a default says why. */
final class NodeConfigs {
    /** The cgroup the kubelet puts every pod under, so the node's processes are found and ended by one tree. */
    static final String CGROUP_ROOT = "/porthole-node";

    private NodeConfigs() {
    }

    static String containerd(Path dir, Path socket, String sandboxImage) {
        return """
                # containerd for the local node: all state under the node's directory.
                version = 2
                root = "%1$s/containerd/root"
                state = "%1$s/containerd/state"
                disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", \
                "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
                [grpc]
                  address = "%2$s"
                [ttrpc]
                  address = "%2$s.ttrpc"
                [metrics]
                  address = ""
                [plugins."io.containerd.grpc.v1.cri"]
                  sandbox_image = "%3$s"
                  # streaming (exec, port-forward) is served on the node's loopback; the kubelet proxies it
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "0"
                  enable_selinux = false
                  disable_apparmor = true
                  # this machine's processes lack CAP_SYS_RESOURCE: without this every sandbox fails to start
                  restrict_oom_score_adj = true
                  netns_mounts_under_state_dir = true
                  [plugins."io.containerd.grpc.v1.cri".containerd]
                    snapshotter = "overlayfs"
                    default_runtime_name = "runc"
                    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                      runtime_type = "io.containerd.runc.v2"
                      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                        BinaryName = "/usr/sbin/runc"
                        # no systemd on this machine: cgroupfs, as the kubelet is told too
                        SystemdCgroup = false
                  [plugins."io.containerd.grpc.v1.cri".cni]
                    bin_dir = "/usr/lib/cni"
                    conf_dir = "%1$s/cni/net.d"
                    max_conf_num = 1
                  [plugins."io.containerd.grpc.v1.cri".registry]
                    config_path = ""
                """.formatted(dir, socket, sandboxImage);
    }

    static String cniBridge(Path dir) {
        return """
                {
                  "cniVersion": "1.0.0",
                  "name": "porthole-pods",
                  "plugins": [
                    {
                      "type": "bridge",
                      "bridge": "cni0",
                      "isGateway": true,
                      "ipMasq": false,
                      "hairpinMode": true,
                      "ipam": {
                        "type": "host-local",
                        "dataDir": "%s/cni/ipam",
                        "ranges": [[{"subnet": "%s", "gateway": "%s"}]],
                        "routes": [{"dst": "0.0.0.0/0"}]
                      }
                    }
                  ]
                }
                """.formatted(dir, NodeHost.POD_CIDR, NodeHost.POD_GATEWAY);
    }

    static String kubelet(Path dir, Path containerdSocket, Path ca, ClusterPki.Pair serving) {
        return """
                apiVersion: kubelet.config.k8s.io/v1beta1
                kind: KubeletConfiguration
                address: %2$s
                readOnlyPort: 0
                healthzBindAddress: 127.0.0.1
                tlsCertFile: %4$s
                tlsPrivateKeyFile: %5$s
                authentication:
                  anonymous: {enabled: false}
                  webhook: {enabled: true}
                  x509: {clientCAFile: %3$s}
                authorization:
                  mode: Webhook
                containerRuntimeEndpoint: unix://%6$s
                # containerd 1.6 does not answer the runtime-config call, so the driver is set, not discovered
                cgroupDriver: cgroupfs
                cgroupRoot: %7$s
                cgroupsPerQOS: true
                enforceNodeAllocatable: [pods]
                failSwapOn: false
                failCgroupV1: false
                protectKernelDefaults: false
                # the node's network namespace is its own; kube-proxy writes the only rules it needs
                makeIPTablesUtilChains: false
                clusterDNS: [%8$s]
                clusterDomain: %9$s
                podLogsDir: %1$s/pod-logs
                volumePluginDir: %1$s/volume-plugins
                # images are imported, never pulled: a shared build machine must not evict or collect them
                evictionHard: {memory.available: "50Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
                imageGCHighThresholdPercent: 100
                imageGCLowThresholdPercent: 99
                maxPods: 60
                serializeImagePulls: false
                nodeStatusUpdateFrequency: 5s
                """.formatted(dir, NodeHost.NODE_ADDRESS, ca, serving.certificate(), serving.key(), containerdSocket,
                CGROUP_ROOT, RealNode.CLUSTER_DNS, RealNode.CLUSTER_DOMAIN);
    }

    static String kubeProxy(Path kubeconfig) {
        return """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                clientConnection:
                  kubeconfig: %s
                hostnameOverride: %s
                mode: iptables
                clusterCIDR: %s
                # no br_netfilter here: replies between pods on one bridge would bypass the rules, so every
                # Service connection is masqueraded and its replies come back through the node
                iptables:
                  masqueradeAll: true
                # leave the kernel's global conntrack settings alone
                conntrack:
                  maxPerCore: 0
                  tcpEstablishedTimeout: 0s
                  tcpCloseWaitTimeout: 0s
                metricsBindAddress: 127.0.0.1:10249
                healthzBindAddress: 127.0.0.1:10256
                """.formatted(kubeconfig, RealNode.NAME, NodeHost.POD_CIDR);
    }
}
