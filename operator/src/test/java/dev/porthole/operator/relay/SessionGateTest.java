package dev.porthole.operator.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.PortForwardStatus;
import dev.porthole.api.v1alpha1.BindScope;
import dev.porthole.operator.policy.EffectivePolicy;
import dev.porthole.operator.support.Forwards;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.relay.Decision;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SessionGateTest {
    private static final ForwardRef DB = new ForwardRef("shop", "db");
    private static final Instant NOW = Instant.parse("2026-11-25T15:00:00Z");
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);

    private final ForwardActivity activity = new ForwardActivity();

    @AfterEach
    void close() {
        activity.close();
    }

    @Test
    @DisplayName("a certificate for the forward's current uid is admitted")
    void currentUidAdmitted() {
        // given
        SessionGate gate = gate(activeForward("uid-now"));

        // when
        Decision decision = gate.authorize(alice("uid-now"), DB, CLIENT);

        // then
        assertThat(decision.allowed()).as(decision.reason()).isTrue();
    }

    @Test
    @DisplayName("a certificate for an earlier forward of the same name is refused, saying so, though all else fits")
    void earlierUidRefused() {
        // given: same name, same audience, Active, in time; only the uid differs
        SessionGate gate = gate(activeForward("uid-now"));

        // when
        Decision decision = gate.authorize(alice("uid-before"), DB, CLIENT);

        // then
        assertThat(decision.allowed()).isFalse();
        assertThat(decision.reason())
                .isEqualTo("certificate was issued for an earlier forward named shop/db (uid uid-before); request a new one");
    }

    @Test
    @DisplayName("the policy's session limit applies to a forward that sets no maxSessions, and caps one that sets more")
    void policySessionLimit() {
        // given: a policy allowing one session; one is open
        EffectivePolicy one = new EffectivePolicy(Duration.ofHours(8), Set.of(BindScope.Loopback), Set.of(), false, 1, false,
                Set.of(), EffectivePolicy.DEFAULT_MAX_AGENTS_PER_POD);
        PortForward unset = activeForward("uid-now");
        PortForward asksForMore = activeForward("uid-now");
        asksForMore.getSpec().setMaxSessions(5);
        activity.sessionOpened(DB);

        // when
        Decision forUnset = gate(unset, one).authorize(alice("uid-now"), DB, CLIENT);
        Decision forMore = gate(asksForMore, one).authorize(alice("uid-now"), DB, CLIENT);

        // then
        assertThat(forUnset.allowed()).isFalse();
        assertThat(forUnset.reason()).isEqualTo("forward shop/db already has its maximum of 1 sessions");
        assertThat(forMore.allowed()).isFalse();
        assertThat(gate(unset).authorize(alice("uid-now"), DB, CLIENT).allowed()).as("default limit 10").isTrue();
    }

    private SessionGate gate(PortForward pf) {
        return gate(pf, EffectivePolicy.DEFAULTS);
    }

    private SessionGate gate(PortForward pf, EffectivePolicy policy) {
        return new SessionGate(name -> name.equals(DB) ? Optional.of(pf) : Optional.empty(), ns -> policy, activity,
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static ClientIdentity alice(String uid) {
        return new ClientIdentity("alice", List.of(), DB, uid, NOW.plusSeconds(600));
    }

    private static PortForward activeForward(String uid) {
        PortForward pf = Forwards.toPod("shop", "db", "db-0", 5432, "10m");
        pf.getMetadata().setUid(uid);
        pf.getMetadata().setCreationTimestamp(NOW.minusSeconds(60).toString());
        PortForwardStatus status = new PortForwardStatus();
        status.setPhase(Phase.Active);
        pf.setStatus(status);
        return pf;
    }
}
