package dev.porthole.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.api.v1alpha1.PortForwardSpec;
import dev.porthole.api.v1alpha1.Target;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** allowAnySource: false refuses sourceRanges that together let in every address of a family, however they are split. */
class PolicyEvaluatorSourceRangesTest {
    private static final EffectivePolicy STRICT = policy(false);

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "0.0.0.0/0                         | sourceRanges 0.0.0.0/0 opens the forward to every address; policy does not allow it",
        "10.0.0.0/8 0.0.0.0/0              | sourceRanges 0.0.0.0/0 opens the forward to every address; policy does not allow it",
        "::/0                              | sourceRanges ::/0 opens the forward to every address; policy does not allow it",
        "0.0.0.0/1 128.0.0.0/1             | sourceRanges 0.0.0.0/1, 128.0.0.0/1 together cover every IPv4 address; policy does not allow it",
        "2001:db8::/32 128.0.0.0/1 0.0.0.0/1 | sourceRanges 128.0.0.0/1, 0.0.0.0/1 together cover every IPv4 address; policy does not allow it",
        "::/1 8000::/1                     | sourceRanges ::/1, 8000::/1 together cover every IPv4 address and every IPv6 address; policy does not allow it",
        "::ffff:0:0/96                     | sourceRanges ::ffff:0:0/96 covers every IPv4 address; policy does not allow it",
        "0.0.0.0/2 64.0.0.0/2 128.0.0.0/2 192.0.0.0/3 224.0.0.0/3 | sourceRanges 0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/2, 192.0.0.0/3, 224.0.0.0/3 together cover every IPv4 address; policy does not allow it",
    })
    @DisplayName("a whole family is refused with the ranges that make it up")
    void wholeFamilyRefused(String ranges, String violation) {
        assertThat(PolicyEvaluator.violations(publicSpec(ranges), 5432, STRICT)).containsExactly(violation);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "203.0.113.0/24",
        "0.0.0.0/1",
        "0.0.0.0/1 128.0.0.0/2 192.0.0.0/3 224.0.0.0/4 240.0.0.0/5 248.0.0.0/6 252.0.0.0/7 254.0.0.0/8 255.0.0.0/9",
        "0.0.0.0/1 8000::/1",
        "2001:db8::/32 fd00::/8",
    })
    @DisplayName("ranges that leave some address out pass")
    void partialRangesPass(String ranges) {
        assertThat(PolicyEvaluator.violations(publicSpec(ranges), 5432, STRICT)).isEmpty();
    }

    @Test
    @DisplayName("allowAnySource: true lets every address in, split or whole")
    void allowedWhenThePolicySaysSo() {
        assertThat(PolicyEvaluator.violations(publicSpec("0.0.0.0/1 128.0.0.0/1"), 5432, policy(true))).isEmpty();
        assertThat(PolicyEvaluator.violations(publicSpec("0.0.0.0/0"), 5432, policy(true))).isEmpty();
    }

    private static EffectivePolicy policy(boolean allowAnySource) {
        return new EffectivePolicy(Duration.ofHours(8), Set.of(BindScope.Public), Set.of(), false, 10, allowAnySource,
                Set.of(), EffectivePolicy.DEFAULT_MAX_AGENTS_PER_POD);
    }

    private static PortForwardSpec publicSpec(String ranges) {
        PortForwardSpec s = new PortForwardSpec();
        s.setTarget(Target.pod("db-0", new IntOrString(5432)));
        s.setAudience(Audience.users("alice"));
        s.setTtl("1h");
        s.setBindScope(BindScope.Public);
        s.setSourceRanges(List.of(ranges.trim().split("\\s+")));
        return s;
    }
}
