package dev.porthole.relay;

/**
 * Counters of a running relay. {@code handshakeTimeouts}: connections closed for not completing admission in time;
 * {@code connectionsShed}: connections closed at accept because too many were already waiting for admission (in all, or
 * from their source address); {@code handshakesPending}: connections between accept and admission now;
 * {@code sessionsUnrecorded}: sessions refused because the session listener could not record their opening;
 * {@code reportsDropped}: audit reports (closes, denials, agent events) the listener queue could not take;
 * {@code dataConnectionsRefused}: data connections closed because their preamble was malformed or their session ticket
 * unknown, spent, or presented from the wrong place.
 */
public record RelayStats(int agentsConnected, int sessionsActive, long sessionsOpened, long sessionsDenied,
                         long agentsRejected, long protocolErrors, long tlsFailures, long handshakeTimeouts,
                         long connectionsShed, int handshakesPending, long sessionsUnrecorded, long reportsDropped,
                         long dataConnectionsRefused) {
}
