package dev.porthole.protocol;

/**
 * What a control connection does with the frames that set up sessions: {@link Frame.Session} (client to relay),
 * {@link Frame.Grant} (relay to client), {@link Frame.Dial} (relay to agent), {@link Frame.Ended} (agent to relay), and a {@link Frame.Reset} or
 * {@link Frame.Close} of an id that is a session on this connection rather than a stream. Called on the connection's
 * event loop; a {@link ProtocolException} closes the connection.
 */
@FunctionalInterface
public interface ControlFrames {
    void onControl(Frame frame);
}
