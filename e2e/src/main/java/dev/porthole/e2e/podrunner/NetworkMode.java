package dev.porthole.e2e.podrunner;

/** How the {@link LocalPodRunner} gives pods a network. */
public enum NetworkMode {
    /** A network namespace and veth per pod on the runner's bridge; fails when that is impossible. */
    NAMESPACES,
    /** Every pod shares the host's network (pod IP 127.0.0.1); nothing is isolated. */
    HOST_LOOPBACK,
    /** {@link #NAMESPACES} when running as root with iproute2, else {@link #HOST_LOOPBACK}, said in one log line. */
    AUTO
}
