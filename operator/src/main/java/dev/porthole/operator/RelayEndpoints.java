package dev.porthole.operator;

/** Where agents and clients reach the running relay, and the CA they pin. */
public record RelayEndpoints(String agentAddress, String clientAddress, String caPem) {
}
