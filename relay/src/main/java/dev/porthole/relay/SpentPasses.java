package dev.porthole.relay;

import java.time.Clock;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The session passes this replica has opened, kept until they expire: a pass opens one session here. Passes travel
 * in the clear, so one seen on the wire could be presented again; its session would fail at the agent's end-to-end
 * handshake, but it is refused here first. Bounded: once {@link #MAX} passes are live, new ones are refused rather than
 * remembered less (only a flood of authenticated grants could get there).
 */
final class SpentPasses {

    static final int MAX = 65_536;

    private final Clock clock;
    /** In the order they were spent, which is close to the order they expire (one validity for all). */
    private final LinkedHashMap<String, Instant> spent = new LinkedHashMap<>();

    SpentPasses(Clock clock) {
        this.clock = clock;
    }

    /** Why {@code pass} cannot be spent (used already, or too many live), or null once it is recorded as spent. */
    synchronized String spend(SessionPass pass) {
        String used = usedAlready(pass);
        if (used != null) {
            return used;
        }
        if (spent.size() >= MAX) {
            return "the relay holds " + MAX + " live session passes; try again in a few seconds";
        }
        spent.put(key(pass), pass.validUntil());
        return null;
    }

    /** Why {@code pass} was spent here already, or null (a check before the work of opening; {@link #spend} decides). */
    synchronized String usedAlready(SessionPass pass) {
        forgetExpired();
        return spent.containsKey(key(pass)) ? "session pass for " + pass.sessionId() + " was used already" : null;
    }

    private void forgetExpired() {
        Instant now = clock.instant();
        for (Iterator<Map.Entry<String, Instant>> it = spent.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue().isAfter(now)) {
                break;
            }
            it.remove();
        }
    }

    /** The granting replica and its session id: ids are drawn per replica. */
    private static String key(SessionPass pass) {
        return Long.toHexString(pass.issuer()) + "/" + pass.sessionId();
    }

    synchronized int size() {
        return spent.size();
    }
}
