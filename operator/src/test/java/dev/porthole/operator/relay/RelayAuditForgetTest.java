package dev.porthole.operator.relay;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.audit.AuditReason;
import dev.porthole.operator.audit.AuditRecorder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class RelayAuditForgetTest {
    private static final ForwardRef FORWARD = new ForwardRef("shop", "db");
    private static final InetSocketAddress AGENT = new InetSocketAddress("10.245.0.3", 40000);

    private final ForwardActivity activity = new ForwardActivity();
    private final List<AuditReason> recorded = new ArrayList<>();
    private final AtomicReference<PortForward> live = new AtomicReference<>(forward("uid-1"));
    private final RelayAudit relayAudit = new RelayAudit(new CollectingRecorder(recorded), activity,
            f -> Optional.ofNullable(live.get()), Clock.fixed(Instant.parse("2026-12-02T00:00:00Z"), ZoneOffset.UTC));

    @AfterEach
    void close() {
        activity.close();
    }

    @Test
    @DisplayName("a deleted forward is forgotten: nothing of it stays in the relay's memory")
    void forgetsDeletedForward() {
        // given
        relayAudit.connected(FORWARD, AGENT);
        assertThat(activity.size()).isEqualTo(1);
        assertThat(relayAudit.rememberedForwards()).isEqualTo(1);

        // when
        relayAudit.forgetForward(FORWARD, "uid-1");

        // then
        assertThat(activity.size()).isZero();
        assertThat(relayAudit.rememberedForwards()).isZero();
        assertThat(recorded).containsExactly(AuditReason.AgentConnected);
    }

    @Test
    @DisplayName("forgetting a deleted forward leaves its re-created namesake (another uid) alone")
    void keepsReCreatedNamesake() {
        // given: the old forward's agent, then the re-created forward's
        relayAudit.connected(FORWARD, AGENT);
        live.set(forward("uid-2"));
        relayAudit.connected(FORWARD, AGENT);

        // when the old one's delayed forget arrives
        relayAudit.forgetForward(FORWARD, "uid-1");

        // then
        assertThat(activity.of(FORWARD).agentConnected()).isTrue();
        assertThat(relayAudit.rememberedForwards()).isEqualTo(1);
    }

    private static PortForward forward(String uid) {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("db").withUid(uid).build());
        return pf;
    }

    /** Records reasons instead of writing Events: the forgetting, not the writing, is under test. */
    private static final class CollectingRecorder extends AuditRecorder {
        private final List<AuditReason> reasons;

        CollectingRecorder(List<AuditReason> reasons) {
            super(null, Clock.systemUTC(), "test");
            this.reasons = reasons;
        }

        @Override
        public void record(PortForward pf, AuditReason reason, String note, Map<String, ?> fields) {
            reasons.add(reason);
        }
    }
}
