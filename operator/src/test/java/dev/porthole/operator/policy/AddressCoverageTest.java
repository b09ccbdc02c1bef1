package dev.porthole.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.operator.policy.AddressCoverage.Family;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AddressCoverageTest {

    @Test
    @DisplayName("the two IPv4 halves cover every IPv4 address, and both are named")
    void ipv4Halves() {
        assertThat(AddressCoverage.whole(List.of("0.0.0.0/1", "128.0.0.0/1"))).hasValueSatisfying(w -> {
            assertThat(w.families()).containsExactly(Family.IPV4);
            assertThat(w.ranges()).containsExactly("0.0.0.0/1", "128.0.0.0/1");
            assertThat(w.words()).isEqualTo("every IPv4 address");
        });
        assertThat(AddressCoverage.whole(List.of("0.0.0.0/0"))).hasValueSatisfying(w ->
                assertThat(w.families()).containsExactly(Family.IPV4));
    }

    @Test
    @DisplayName("many small ranges that tile the space, in any order, cover it; one missing leaves a gap")
    void smallRangesTile() {
        // given: all 256 /8s, shuffled
        List<String> slash8 = new ArrayList<>(IntStream.range(0, 256).mapToObj(i -> i + ".0.0.0/8").toList());
        Collections.shuffle(slash8, new Random(42));

        // then
        assertThat(AddressCoverage.whole(slash8)).hasValueSatisfying(w -> {
            assertThat(w.families()).containsExactly(Family.IPV4);
            assertThat(w.ranges()).hasSize(256);
        });
        List<String> without = new ArrayList<>(slash8);
        without.remove("77.0.0.0/8");
        assertThat(AddressCoverage.whole(without)).isEmpty();
    }

    @Test
    @DisplayName("overlapping and nested ranges, and host bits below the prefix, are merged like the relay matches them")
    void overlapping() {
        assertThat(AddressCoverage.whole(List.of("64.0.0.0/2", "0.0.0.0/1", "100.0.0.0/6", "160.0.0.0/3", "128.0.0.0/2",
                "192.0.0.0/2", "192.168.0.0/16"))).isPresent();
        // 200.1.2.3/1 is 128.0.0.0/1 with host bits set
        assertThat(AddressCoverage.whole(List.of("10.20.30.40/1", "200.1.2.3/1"))).isPresent();
        assertThat(AddressCoverage.whole(List.of("0.0.0.0/1", "0.0.0.0/1", "64.0.0.0/2"))).isEmpty();
    }

    @Test
    @DisplayName("a gap of one address, at the top, at the bottom or in the middle, is not every address")
    void gapOfOneAddress() {
        // given: ranges covering all of IPv4 but 255.255.255.255, then all but 0.0.0.0
        List<String> allButLast = chainUpTo(32, BigInteger.ONE.shiftLeft(32).subtract(BigInteger.ONE));
        List<String> allButFirst = new ArrayList<>(); // 0.0.0.1/32, 0.0.0.2/31, 0.0.0.4/30, ... 128.0.0.0/1
        for (int bits = 0; bits < 32; bits++) {
            allButFirst.add(ipv4(BigInteger.ONE.shiftLeft(bits)) + "/" + (32 - bits));
        }

        // then
        assertThat(allButLast).hasSize(32);
        assertThat(allButFirst).startsWith("0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/30").endsWith("128.0.0.0/1");
        assertThat(AddressCoverage.whole(allButLast)).isEmpty();
        assertThat(AddressCoverage.whole(plus(allButLast, "255.255.255.255"))).isPresent();
        assertThat(AddressCoverage.whole(plus(allButLast, "255.255.255.255/32"))).isPresent();
        assertThat(AddressCoverage.whole(allButFirst)).isEmpty();
        assertThat(AddressCoverage.whole(plus(allButFirst, "0.0.0.0/32"))).isPresent();
        // the middle: everything but 10.0.0.0/8, with 10.0.0.0/8 back but for 10.0.0.1
        List<String> middle = List.of("0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
                "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28",
                "10.0.0.32/27", "10.0.0.64/26", "10.0.0.128/25", "10.0.1.0/24", "10.0.2.0/23", "10.0.4.0/22", "10.0.8.0/21",
                "10.0.16.0/20", "10.0.32.0/19", "10.0.64.0/18", "10.0.128.0/17", "10.1.0.0/16", "10.2.0.0/15", "10.4.0.0/14",
                "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9");
        assertThat(AddressCoverage.whole(middle)).isEmpty();
        assertThat(AddressCoverage.whole(plus(middle, "10.0.0.1/32"))).isPresent();
    }

    @Test
    @DisplayName("IPv6: the two halves cover every IPv6 address (and, holding ::ffff:0:0/96, every IPv4 one); a gap of one does not")
    void ipv6() {
        assertThat(AddressCoverage.whole(List.of("::/1", "8000::/1"))).hasValueSatisfying(w -> {
            assertThat(w.families()).containsExactly(Family.IPV4, Family.IPV6);
            assertThat(w.words()).isEqualTo("every IPv4 address and every IPv6 address");
            assertThat(w.ranges()).containsExactly("::/1", "8000::/1");
        });
        assertThat(AddressCoverage.whole(List.of("::/2", "4000::/2", "8000::/1"))).isPresent();
        assertThat(AddressCoverage.whole(List.of("8000::/1"))).isEmpty();
        assertThat(AddressCoverage.whole(List.of("2000::/3", "fc00::/7", "fe80::/10"))).isEmpty();

        List<String> allButLast = chainUpTo(128, BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE));
        assertThat(AddressCoverage.whole(allButLast)).hasValueSatisfying(w ->
                assertThat(w.families()).as("the mapped block is covered, the top address is not").containsExactly(Family.IPV4));
        assertThat(AddressCoverage.whole(plus(allButLast, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")))
                .hasValueSatisfying(w -> assertThat(w.families()).containsExactly(Family.IPV4, Family.IPV6));
    }

    @Test
    @DisplayName("IPv4-mapped IPv6 ranges count as the IPv4 addresses they stand for; all IPv6 but the mapped block is every IPv6 address")
    void ipv4Mapped() {
        assertThat(AddressCoverage.whole(List.of("::ffff:0:0/96"))).hasValueSatisfying(w -> {
            assertThat(w.families()).containsExactly(Family.IPV4);
            assertThat(w.ranges()).containsExactly("::ffff:0:0/96");
        });
        assertThat(AddressCoverage.whole(List.of("::ffff:0.0.0.0/97", "128.0.0.0/1"))).hasValueSatisfying(w ->
                assertThat(w.families()).containsExactly(Family.IPV4));
        assertThat(AddressCoverage.whole(List.of("::ffff:0.0.0.0/97"))).isEmpty();

        // given: every IPv6 range beside ::ffff:0:0/96, the siblings along its path from the root
        List<String> allButMapped = new ArrayList<>();
        BigInteger mapped = BigInteger.valueOf(0xffffL).shiftLeft(32);
        for (int prefix = 1; prefix <= 96; prefix++) {
            BigInteger sibling = mapped.shiftRight(128 - prefix).flipBit(0).shiftLeft(128 - prefix);
            allButMapped.add(ipv6(sibling) + "/" + prefix);
        }

        // then
        assertThat(AddressCoverage.whole(allButMapped)).hasValueSatisfying(w -> {
            assertThat(w.families()).containsExactly(Family.IPV6);
            assertThat(w.ranges()).hasSize(96);
        });
        assertThat(AddressCoverage.whole(plus(allButMapped, "0.0.0.0/1", "128.0.0.0/1"))).hasValueSatisfying(w ->
                assertThat(w.families()).containsExactly(Family.IPV4, Family.IPV6));
    }

    @Test
    @DisplayName("mixed families: halves of different families cover neither; only the ranges of the covered family are named")
    void mixedFamilies() {
        assertThat(AddressCoverage.whole(List.of("0.0.0.0/1", "8000::/1"))).isEmpty();
        assertThat(AddressCoverage.whole(List.of("10.0.0.0/8", "2001:db8::/32", "203.0.113.4"))).isEmpty();
        assertThat(AddressCoverage.whole(List.of("2001:db8::/32", "0.0.0.0/1", "fd00::/8", "128.0.0.0/1")))
                .hasValueSatisfying(w -> {
                    assertThat(w.families()).containsExactly(Family.IPV4);
                    assertThat(w.ranges()).containsExactly("0.0.0.0/1", "128.0.0.0/1");
                });
    }

    @Test
    @DisplayName("entries that are not CIDR literals match nothing, and no name is ever resolved")
    void notCidrs() {
        assertThat(AddressCoverage.whole(List.of())).isEmpty();
        assertThat(AddressCoverage.whole(List.of("not-a-cidr", "300.0.0.0/1", "0.0.0.0/33", "::/129", "0.0.0.0/x", "/0",
                ".:/0", "1.2.3/0"))).isEmpty();
        // localhost would resolve to 127.0.0.1, making 0.0.0.0/1
        assertThat(AddressCoverage.whole(List.of("localhost/1", "128.0.0.0/1"))).isEmpty();
    }

    // --- helpers

    /** Ranges covering [0, last) of a {@code width}-bit space: /1 at 0, /2 after it, ... /width just below {@code last}. */
    private static List<String> chainUpTo(int width, BigInteger last) {
        List<String> out = new ArrayList<>();
        BigInteger start = BigInteger.ZERO;
        for (int prefix = 1; prefix <= width; prefix++) {
            out.add((width == 32 ? ipv4(start) : ipv6(start)) + "/" + prefix);
            start = start.add(BigInteger.ONE.shiftLeft(width - prefix));
        }
        assertThat(start).isEqualTo(last);
        return out;
    }

    private static List<String> plus(List<String> list, String... more) {
        List<String> out = new ArrayList<>(list);
        out.addAll(List.of(more));
        return out;
    }

    private static String ipv4(BigInteger value) {
        return address(value, 4);
    }

    /** Written out in full hex groups, so an address in the mapped block stays in IPv6 form. */
    private static String ipv6(BigInteger value) {
        StringBuilder s = new StringBuilder();
        for (int group = 7; group >= 0; group--) {
            s.append(Integer.toHexString(value.shiftRight(group * 16).intValue() & 0xffff));
            if (group > 0) {
                s.append(':');
            }
        }
        return s.toString();
    }

    private static String address(BigInteger value, int bytes) {
        byte[] raw = value.toByteArray();
        byte[] b = new byte[bytes];
        int copy = Math.min(raw.length, bytes);
        System.arraycopy(raw, raw.length - copy, b, bytes - copy, copy);
        try {
            return InetAddress.getByAddress(b).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
