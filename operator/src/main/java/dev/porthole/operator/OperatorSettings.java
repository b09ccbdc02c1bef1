package dev.porthole.operator;

import dev.porthole.relay.ClientAddresses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * How the operator is wired into its cluster. Read from environment variables in production (see
 * {@link #fromEnvironment(Map)}), built directly in tests.
 *
 * @param namespace        the operator's namespace: the CA and relay certificate Secrets live here
 * @param instance         this operator's name in Events (usually the pod name)
 * @param agentImage       image of the tunnel agent injected as an ephemeral container
 * @param relayBindAddress address the in-process relay listens on
 * @param relayAgentPort   port of the relay's agent listener (0 picks a free one)
 * @param relayClientPort  port of the relay's client listener (0 picks a free one)
 * @param relayAgentHost   host agents dial (a Service name in a cluster); also a name in the relay certificate
 * @param relayClientHost  host clients dial (a LoadBalancer or Ingress name for users outside the cluster)
 * @param extraRelayNames  further DNS names or IPs for the relay certificate
 * @param leaderElection   whether replicas elect a leader (a Lease in {@code namespace}) before reconciling
 * @param leaseName        name of that Lease
 * @param relayClientAdvertisedPort port clients are told to dial (an Ingress's 443); 0 means the listener's port
 * @param httpPort         port of the metrics and health endpoint (started by {@link OperatorMain})
 * @param relayDrain       how long a stopping operator's relay lets live sessions finish (zero: cut them at once)
 * @param relayExternalClientPort port of the relay's external client listener, the one a load balancer or Ingress
 *                         forwards to (Cluster-scope forwards are refused there); -1 for none
 * @param relayExternalClientAddresses what that listener knows of client addresses (kept, a PROXY protocol header, or
 *                         unknown behind an Ingress)
 * @param relayMode        whether the operator runs the relay ({@link RelayMode#EMBEDDED}) or a relay Deployment runs
 *                         apart ({@link RelayMode#SEPARATE}); then the relay settings above say where agents and clients
 *                         reach it, and the operator binds nothing
 * @param relayAgentAddresses what injected agents are told to dial: empty for {@code relayAgentHost:relayAgentPort}
 *                         (a name resolving to every replica), else a comma-separated host:port list, for replicas not
 *                         behind one name
 */
public record OperatorSettings(String namespace, String instance, String agentImage, String relayBindAddress,
                               int relayAgentPort, int relayClientPort, String relayAgentHost, String relayClientHost,
                               List<String> extraRelayNames, boolean leaderElection, String leaseName,
                               int relayClientAdvertisedPort, int httpPort, Duration relayDrain,
                               int relayExternalClientPort, ClientAddresses relayExternalClientAddresses,
                               RelayMode relayMode, String relayAgentAddresses) {

    public static final String DEFAULT_AGENT_IMAGE = "ghcr.io/porthole-dev/porthole-agent:0.1.0";
    public static final String DEFAULT_LEASE_NAME = "porthole-operator-leader";
    public static final int DEFAULT_HTTP_PORT = 8080;
    /** How long a stopping operator's relay lets live sessions finish (below the chart's 30 s termination grace). */
    public static final Duration DEFAULT_RELAY_DRAIN = Duration.ofSeconds(20);

    /** A single operator (no leader election), clients told the listener's port, HTTP endpoint on 8080. */
    public OperatorSettings(String namespace, String instance, String agentImage, String relayBindAddress,
                            int relayAgentPort, int relayClientPort, String relayAgentHost, String relayClientHost,
                            List<String> extraRelayNames) {
        this(namespace, instance, agentImage, relayBindAddress, relayAgentPort, relayClientPort, relayAgentHost,
                relayClientHost, extraRelayNames, false, DEFAULT_LEASE_NAME, 0, DEFAULT_HTTP_PORT, Duration.ZERO, -1,
                ClientAddresses.PRESERVED, RelayMode.EMBEDDED, "");
    }

    public static OperatorSettings fromEnvironment(Map<String, String> env) {
        String ns = env.getOrDefault("PORTHOLE_NAMESPACE", "porthole-system");
        String service = env.getOrDefault("PORTHOLE_RELAY_SERVICE", "porthole-relay") + "." + ns + ".svc";
        String extra = env.getOrDefault("PORTHOLE_RELAY_EXTRA_NAMES", "");
        return new OperatorSettings(ns,
                env.getOrDefault("POD_NAME", "porthole-operator"),
                env.getOrDefault("PORTHOLE_AGENT_IMAGE", DEFAULT_AGENT_IMAGE),
                env.getOrDefault("PORTHOLE_RELAY_BIND_ADDRESS", "0.0.0.0"),
                Integer.parseInt(env.getOrDefault("PORTHOLE_RELAY_AGENT_PORT", "7443")),
                Integer.parseInt(env.getOrDefault("PORTHOLE_RELAY_CLIENT_PORT", "7444")),
                env.getOrDefault("PORTHOLE_RELAY_AGENT_HOST", service),
                env.getOrDefault("PORTHOLE_RELAY_CLIENT_HOST", service),
                extra.isBlank() ? List.of() : Arrays.stream(extra.split(",")).map(String::trim).toList(),
                Boolean.parseBoolean(env.getOrDefault("PORTHOLE_LEADER_ELECTION", "false")),
                env.getOrDefault("PORTHOLE_LEADER_ELECTION_LEASE", DEFAULT_LEASE_NAME),
                Integer.parseInt(env.getOrDefault("PORTHOLE_RELAY_CLIENT_ADVERTISED_PORT", "0")),
                Integer.parseInt(env.getOrDefault("PORTHOLE_HTTP_PORT", Integer.toString(DEFAULT_HTTP_PORT))),
                Duration.ofSeconds(Long.parseLong(env.getOrDefault("PORTHOLE_RELAY_DRAIN_SECONDS",
                        Long.toString(DEFAULT_RELAY_DRAIN.toSeconds())))),
                Integer.parseInt(env.getOrDefault("PORTHOLE_RELAY_EXTERNAL_CLIENT_PORT", "-1")),
                ClientAddresses.parse(env.getOrDefault("PORTHOLE_RELAY_EXTERNAL_CLIENT_ADDRESSES", "Preserved")),
                RelayMode.parse(env.getOrDefault("PORTHOLE_RELAY_MODE", "Embedded")),
                env.getOrDefault("PORTHOLE_RELAY_AGENT_ADDRESSES", "").strip());
    }

    /** As this, with leader election on the Lease {@code leaseName}. */
    public OperatorSettings withLeaderElection(String leaseName) {
        return new OperatorSettings(namespace, instance, agentImage, relayBindAddress, relayAgentPort, relayClientPort,
                relayAgentHost, relayClientHost, extraRelayNames, true, leaseName, relayClientAdvertisedPort, httpPort,
                relayDrain, relayExternalClientPort, relayExternalClientAddresses, relayMode, relayAgentAddresses);
    }

    /** As this, with the relay running apart ({@link RelayMode#SEPARATE}) where the relay settings say. */
    public OperatorSettings withSeparateRelay() {
        return new OperatorSettings(namespace, instance, agentImage, relayBindAddress, relayAgentPort, relayClientPort,
                relayAgentHost, relayClientHost, extraRelayNames, leaderElection, leaseName, relayClientAdvertisedPort,
                httpPort, relayDrain, relayExternalClientPort, relayExternalClientAddresses, RelayMode.SEPARATE,
                relayAgentAddresses);
    }

    /** Every name the relay certificate must carry. */
    public List<String> relayCertificateNames() {
        LinkedHashSet<String> names = new LinkedHashSet<>(List.of(relayAgentHost, relayClientHost));
        names.addAll(extraRelayNames);
        return new ArrayList<>(names);
    }
}
