package dev.porthole.operator;

import java.util.Map;

/**
 * How the operator is wired into its cluster. Read from environment variables in production (see
 * {@link #fromEnvironment(Map)}), built directly in tests.
 *
 * @param relayAgentAddress host:port at which injected agents reach the relay's agent listener
 * @param agentImage        image of the tunnel agent injected as an ephemeral container
 * @param caPem             the CA agents pin when dialling the relay (PEM); empty until the CA exists
 * @param instance          this operator's name in Events (usually the pod name)
 */
public record OperatorSettings(String relayAgentAddress, String agentImage, String caPem, String instance) {

    public static final String DEFAULT_AGENT_IMAGE = "ghcr.io/porthole-dev/porthole-agent:0.1.0";

    public static OperatorSettings fromEnvironment(Map<String, String> env) {
        return new OperatorSettings(
                env.getOrDefault("PORTHOLE_RELAY_AGENT_ADDRESS", "porthole-relay.porthole-system.svc:7443"),
                env.getOrDefault("PORTHOLE_AGENT_IMAGE", DEFAULT_AGENT_IMAGE),
                env.getOrDefault("PORTHOLE_CA_PEM", ""),
                env.getOrDefault("POD_NAME", "porthole-operator"));
    }
}
