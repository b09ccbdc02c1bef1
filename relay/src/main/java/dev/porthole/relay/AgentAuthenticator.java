package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;

/** Checks an agent's token for the forward it claims. Called off the event loop; may block briefly. */
@FunctionalInterface
public interface AgentAuthenticator {

    boolean authenticate(ForwardRef forward, String token);
}
