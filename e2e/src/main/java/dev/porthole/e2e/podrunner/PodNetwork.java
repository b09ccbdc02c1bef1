package dev.porthole.e2e.podrunner;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a pod's processes live on the network. With isolation, {@code netns} is the pod's own network
 * namespace ({@code ph-<hash>}) and {@code podIp} its address on the runner's bridge; without it (the
 * runner could not create namespaces), the pod shares the host's network and its IP is 127.0.0.1.
 *
 * @param netns the network namespace's name, empty when the pod shares the host's network
 * @param podIp the pod's address
 */
public record PodNetwork(Optional<String> netns, String podIp) {

    /** The host network; used when the runner cannot create namespaces. */
    public static final PodNetwork HOST_LOOPBACK = new PodNetwork(Optional.empty(), "127.0.0.1");

    public boolean isolated() {
        return netns.isPresent();
    }

    /** {@code command} as run inside the pod's network: prefixed with {@code ip netns exec NAME} when isolated. */
    public List<String> inside(List<String> command) {
        List<String> line = new ArrayList<>();
        netns.ifPresent(name -> line.addAll(List.of(HostCommands.ip(), "netns", "exec", name)));
        line.addAll(command);
        return line;
    }

    public List<String> inside(String... command) {
        return inside(List.of(command));
    }
}
