package dev.porthole.protocol;

/** Credit a stream may still send: starts at the peer's announced window, grows with WINDOW_UPDATE. */
public final class SendWindow {

    private long available;

    public SendWindow(int initial) {
        this.available = initial;
    }

    /** Takes up to {@code wanted} bytes of credit and returns how many were granted (0 when exhausted). */
    public int take(int wanted) {
        int granted = (int) Math.min(wanted, available);
        available -= granted;
        return granted;
    }

    /** Adds credit from a WINDOW_UPDATE; a peer granting more than {@link Protocol#MAX_WINDOW} is broken. */
    public void credit(int increment) {
        if (available + increment > Protocol.MAX_WINDOW) {
            throw new ProtocolException("WINDOW_UPDATE grows send window past " + Protocol.MAX_WINDOW);
        }
        available += increment;
    }

    public long available() {
        return available;
    }
}
