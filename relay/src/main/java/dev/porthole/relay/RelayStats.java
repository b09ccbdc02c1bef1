package dev.porthole.relay;

/** Counters of a running relay. */
public record RelayStats(int agentsConnected, int sessionsActive, long sessionsOpened, long sessionsDenied,
                         long agentsRejected, long protocolErrors, long tlsFailures) {
}
