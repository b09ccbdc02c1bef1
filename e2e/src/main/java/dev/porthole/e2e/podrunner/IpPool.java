package dev.porthole.e2e.podrunner;

import java.util.BitSet;

/**
 * Pod addresses in 10.244.0.0/16: the gateway (the host end of the bridge) is 10.244.0.1, pods get
 * 10.244.0.2 up to 10.244.255.254, handed out in turn and reused only after the whole range went
 * round. Reusing a just-released address at once let a new pod take an address while the host's
 * neighbour table still held the old pod's MAC for it, so replies to the new pod went nowhere for
 * tens of seconds (seen as relay connections timing out).
 */
final class IpPool {
    static final String GATEWAY = "10.244.0.1";
    static final int PREFIX_LENGTH = 16;
    private static final int FIRST = 2;
    private static final int LAST = 65_534;

    private final BitSet used = new BitSet(LAST + 1);
    private int last = FIRST - 1;

    synchronized String allocate() {
        int next = used.nextClearBit(last + 1);
        if (next > LAST) {
            next = used.nextClearBit(FIRST);
        }
        if (next > LAST) {
            throw new IllegalStateException("no free pod address left in 10.244.0.0/16");
        }
        used.set(next);
        last = next;
        return address(next);
    }

    synchronized void release(String address) {
        int host = hostPart(address);
        if (host >= FIRST && host <= LAST) {
            used.clear(host);
        }
    }

    synchronized int inUse() {
        return used.cardinality();
    }

    private static String address(int host) {
        return "10.244." + (host >> 8) + "." + (host & 0xff);
    }

    private static int hostPart(String address) {
        String[] octets = address.split("\\.");
        if (octets.length != 4 || !octets[0].equals("10") || !octets[1].equals("244")) {
            return -1;
        }
        return (Integer.parseInt(octets[2]) << 8) | Integer.parseInt(octets[3]);
    }
}
