package dev.porthole.api.v1alpha1;

/**
 * Targets no forward may reach unless a PortForwardPolicy covering the forward's namespace lifts the
 * exclusion by name, because reaching them is reaching the cluster's own machinery: a forward there is
 * worth more than its creator's port-forward right suggests.
 */
public enum Exclusion {
    /** Pods in {@code kube-system}: the cluster's own components and their credentials. */
    KubeSystem,
    /** Pods in the namespace the Porthole operator runs in (its CA key lives there). */
    OperatorNamespace,
    /** Pods with {@code hostNetwork: true}: their 127.0.0.1 is the node's loopback (kubelet, etcd, node agents). */
    HostNetwork,
    /** Porthole's own operator and relay pods, wherever they run. */
    PortholePods
}
