package dev.porthole.operator.relay;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Whether an address falls in one of a forward's {@code sourceRanges} (IPv4 or IPv6 CIDRs). */
final class SourceRanges {
    private SourceRanges() {
    }

    static boolean contains(List<String> cidrs, InetAddress address) {
        return cidrs.stream().anyMatch(cidr -> contains(cidr, address));
    }

    static boolean contains(String cidr, InetAddress address) {
        int slash = cidr.indexOf('/');
        try {
            InetAddress network = InetAddress.getByName(slash < 0 ? cidr : cidr.substring(0, slash));
            byte[] a = address.getAddress();
            byte[] n = network.getAddress();
            if (a.length != n.length) {
                return false;
            }
            int bits = slash < 0 ? a.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
            int shift = a.length * 8 - bits;
            return new BigInteger(1, a).shiftRight(shift).equals(new BigInteger(1, n).shiftRight(shift));
        } catch (UnknownHostException | NumberFormatException e) {
            return false; // the schema admits only CIDRs; anything else matches nothing
        }
    }
}
