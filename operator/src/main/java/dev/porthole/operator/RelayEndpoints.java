package dev.porthole.operator;

/**
 * Where agents and clients reach the running relay, and the CA they pin. {@code inClusterClientAddress}: the in-cluster
 * client listener when {@code clientAddress} is the external one (Cluster-scope forwards are used only there), else null.
 */
public record RelayEndpoints(String agentAddress, String clientAddress, String inClusterClientAddress, String caPem) {
    public RelayEndpoints(String agentAddress, String clientAddress, String caPem) {
        this(agentAddress, clientAddress, null, caPem);
    }
}
