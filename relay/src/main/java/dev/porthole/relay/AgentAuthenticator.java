package dev.porthole.relay;

/** Checks an agent's token for the forward it claims. Called off the event loop; may block briefly. */
@FunctionalInterface
public interface AgentAuthenticator {

    boolean authenticate(String forward, String token);
}
