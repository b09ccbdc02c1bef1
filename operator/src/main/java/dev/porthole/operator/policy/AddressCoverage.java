package dev.porthole.operator.policy;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a list of CIDRs together lets in every IPv4 address or every IPv6 address, however it is
 * split up ({@code 0.0.0.0/1} and {@code 128.0.0.0/1} are as open as {@code 0.0.0.0/0}).
 *
 * <p>All ranges are placed in one 128-bit space, with IPv4 {@code a.b.c.d/p} as its IPv4-mapped IPv6 form
 * {@code ::ffff:a.b.c.d/(96+p)}; the intervals are merged and two questions asked:
 * <ul>
 *   <li>every IPv4 address: the mapped block {@code ::ffff:0:0/96} is covered, whether by IPv4 ranges, by
 *       ranges written in mapped form ({@code ::ffff:0.0.0.0/97}) or by wider IPv6 ranges that contain it
 *       ({@code ::/1}, {@code ::/64}). A mapped address is the IPv4 address it stands for: Java reads
 *       {@code ::ffff:a.b.c.d} as {@code a.b.c.d}, and a dual-stack socket reports IPv4 peers that way. A
 *       check that refuses "everyone" must not depend on which form a listener sees, so it errs on the
 *       side of refusing.</li>
 *   <li>every IPv6 address: everything outside the mapped block is covered (the mapped block is IPv4,
 *       counted above).</li>
 * </ul>
 * Host bits below the prefix are ignored, as the relay's match ignores them. An entry that is not a CIDR
 * literal (the CRD admits none) matches nothing and is skipped; nothing here resolves a name.
 */
public final class AddressCoverage {
    private static final BigInteger MAPPED_START = BigInteger.valueOf(0xffffL).shiftLeft(32);
    private static final BigInteger MAPPED_END = MAPPED_START.add(BigInteger.ONE.shiftLeft(32)); // exclusive
    private static final BigInteger SPACE_END = BigInteger.ONE.shiftLeft(128); // exclusive
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    /** Starts with a hex digit or ':' and has a ':', so InetAddress parses it as an IPv6 literal, never as a name. */
    private static final Pattern IPV6 = Pattern.compile("(?=.*:)[0-9A-Fa-f:][0-9A-Fa-f:.]*");

    /** Which whole address families the ranges cover. */
    public enum Family {
        IPV4("every IPv4 address"), IPV6("every IPv6 address");

        private final String words;

        Family(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /**
     * The ranges cover all of {@code families}; {@code ranges} are the entries that contribute (those
     * that overlap a covered family), in the order given.
     */
    public record Whole(List<Family> families, List<String> ranges) {
        /** "every IPv4 address", "every IPv6 address" or "every IPv4 and every IPv6 address". */
        public String words() {
            return String.join(" and ", families.stream().map(Family::words).toList());
        }
    }

    private record Range(String cidr, BigInteger start, BigInteger end) { // end exclusive
        boolean overlaps(BigInteger from, BigInteger to) {
            return start.compareTo(to) < 0 && end.compareTo(from) > 0;
        }
    }

    private AddressCoverage() {
    }

    /** The whole families {@code cidrs} cover, or empty when every family has an address left out. */
    public static Optional<Whole> whole(Collection<String> cidrs) {
        List<Range> ranges = cidrs.stream().map(AddressCoverage::parse).flatMap(Optional::stream).toList();
        List<Range> merged = merge(ranges);
        boolean ipv4 = covers(merged, MAPPED_START, MAPPED_END);
        boolean ipv6 = covers(merged, BigInteger.ZERO, MAPPED_START) && covers(merged, MAPPED_END, SPACE_END);
        if (!ipv4 && !ipv6) {
            return Optional.empty();
        }
        List<Family> families = new ArrayList<>();
        if (ipv4) {
            families.add(Family.IPV4);
        }
        if (ipv6) {
            families.add(Family.IPV6);
        }
        List<String> contributing = ranges.stream()
                .filter(r -> ipv4 && r.overlaps(MAPPED_START, MAPPED_END)
                        || ipv6 && (r.overlaps(BigInteger.ZERO, MAPPED_START) || r.overlaps(MAPPED_END, SPACE_END)))
                .map(Range::cidr)
                .toList();
        return Optional.of(new Whole(List.copyOf(families), contributing));
    }

    private static Optional<Range> parse(String cidr) {
        if (cidr == null) {
            return Optional.empty();
        }
        String text = cidr.strip();
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        byte[] bytes = address(address);
        if (bytes == null) {
            return Optional.empty();
        }
        int width = bytes.length * 8;
        int prefix;
        try {
            prefix = slash < 0 ? width : Integer.parseInt(text.substring(slash + 1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (prefix < 0 || prefix > width) {
            return Optional.empty();
        }
        BigInteger value = new BigInteger(1, bytes);
        if (width == 32) {
            value = MAPPED_START.add(value);
            prefix += 96;
        }
        int hostBits = 128 - prefix;
        BigInteger start = value.shiftRight(hostBits).shiftLeft(hostBits);
        return Optional.of(new Range(cidr, start, start.add(BigInteger.ONE.shiftLeft(hostBits))));
    }

    /** The 4 or 16 bytes of an address literal, or null; an IPv4-mapped IPv6 literal keeps its 16 bytes. */
    private static byte[] address(String text) {
        Matcher v4 = IPV4.matcher(text);
        if (v4.matches()) {
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(v4.group(i + 1));
                if (octet > 255) {
                    return null;
                }
                b[i] = (byte) octet;
            }
            return b;
        }
        if (!IPV6.matcher(text).matches()) {
            return null; // not a literal: never handed to the resolver
        }
        try {
            InetAddress parsed = InetAddress.getByName(text);
            // Java turns ::ffff:a.b.c.d into a.b.c.d; keep it in the 128-bit space where it was written
            return parsed instanceof Inet4Address ? mapped(parsed.getAddress()) : parsed.getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] mapped(byte[] ipv4) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(ipv4, 0, b, 12, 4);
        return b;
    }

    /** Sorted, with overlapping and touching intervals joined. */
    private static List<Range> merge(List<Range> ranges) {
        List<Range> sorted = ranges.stream().sorted(Comparator.comparing(Range::start)).toList();
        List<Range> out = new ArrayList<>();
        for (Range r : sorted) {
            Range last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && r.start().compareTo(last.end()) <= 0) {
                out.set(out.size() - 1, new Range(null, last.start(), last.end().max(r.end())));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** Whether the merged intervals leave no address of [from, to) out. */
    private static boolean covers(List<Range> merged, BigInteger from, BigInteger to) {
        return merged.stream().anyMatch(r -> r.start().compareTo(from) <= 0 && r.end().compareTo(to) >= 0);
    }
}
