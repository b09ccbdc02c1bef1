package dev.porthole.operator.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.audit.AuditUnavailableException;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.relay.SessionListener;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A session's opening is on the audit record before the session goes ahead, or the session is refused (fail closed). */
@EnableKubernetesMockClient
class SessionOpenedAuditTest {
    private static final ForwardRef DB = new ForwardRef("shop", "db");
    private static final String EVENTS = "/apis/events.k8s.io/v1/namespaces/shop/events";

    KubernetesMockServer server;
    KubernetesClient client;

    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<String> unrecorded = new CopyOnWriteArrayList<>();
    private final ForwardActivity activity = new ForwardActivity();
    private final OperatorMetrics metrics = new OperatorMetrics() {
        @Override
        public void auditEventFailed(String auditReason) {
            failures.add(auditReason);
        }

        @Override
        public void sessionUnrecorded() {
            unrecorded.add("session");
        }
    };

    @AfterEach
    void close() {
        activity.close();
    }

    @Test
    @DisplayName("the API server taking the SessionOpened Event lets the session open and counts it")
    void recorded() throws Exception {
        // given
        server.expect().post().withPath(EVENTS).andReturn(201, "{}").once();

        // when
        audit(Optional.of(forward())).opened(opening());

        // then
        assertThat(server.getLastRequest().getPath()).isEqualTo(EVENTS);
        assertThat(activity.of(DB).active()).isEqualTo(1);
        assertThat(failures).isEmpty();
        assertThat(unrecorded).isEmpty();
    }

    @Test
    @DisplayName("an API server that refuses the Event refuses the session: nothing is counted as open, the failure is")
    void eventRefused() {
        // given
        server.expect().post().withPath(EVENTS).andReturn(403, "{}").always(); // e.g. the ServiceAccount lost "create events"

        // when / then
        assertThatThrownBy(() -> audit(Optional.of(forward())).opened(opening()))
                .isInstanceOf(AuditUnavailableException.class)
                .hasMessageContaining("audit Event for SessionOpened on forward shop/db was not written");
        assertThat(activity.of(DB).active()).isZero();
        assertThat(failures).containsExactly("SessionOpened");
        assertThat(unrecorded).hasSize(1);
    }

    @Test
    @DisplayName("a forward the relay cannot find cannot be recorded against, so its session is refused")
    void unknownForward() {
        assertThatThrownBy(() -> audit(Optional.empty()).opened(opening()))
                .isInstanceOf(AuditUnavailableException.class).hasMessageContaining("forward shop/db is unknown");
        assertThat(unrecorded).hasSize(1);
        assertThat(activity.of(DB).active()).isZero();
    }

    private RelayAudit audit(Optional<PortForward> forward) {
        return new RelayAudit(new AuditRecorder(client, Clock.systemUTC(), "test", metrics), activity, f -> forward,
                Clock.systemUTC(), metrics);
    }

    private static SessionListener.Opened opening() {
        return new SessionListener.Opened("session-1", new ClientIdentity("alice", List.of("sre"), DB, "uid-1",
                Instant.now().plusSeconds(600)), new InetSocketAddress("10.0.0.7", 50000), DB, Instant.now());
    }

    private static PortForward forward() {
        PortForward pf = new PortForward();
        pf.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName("db").withUid("uid-1").build());
        return pf;
    }
}
