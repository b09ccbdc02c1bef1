package dev.porthole.operator.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SourceRangesTest {

    @ParameterizedTest(name = "{1} in {0}: {2}")
    @CsvSource({
        "203.0.113.4/32, 203.0.113.4, true",
        "203.0.113.4/32, 203.0.113.5, false",
        "203.0.113.0/24, 203.0.113.200, true",
        "203.0.113.0/24, 203.0.114.1, false",
        "10.0.0.0/8, 10.255.1.2, true",
        "0.0.0.0/0, 198.51.100.7, true",
        "2001:db8::/32, 2001:db8:1::1, true",
        "2001:db8::/32, 2001:db9::1, false",
        "203.0.113.0/24, 2001:db8::1, false",
        "not-a-cidr, 203.0.113.4, false",
    })
    @DisplayName("a client address is admitted only inside the forward's source ranges")
    void matchesCidr(String cidr, String address, boolean inside) throws Exception {
        assertThat(SourceRanges.contains(List.of(cidr), InetAddress.getByName(address))).isEqualTo(inside);
    }
}
