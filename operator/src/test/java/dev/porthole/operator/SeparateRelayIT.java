package dev.porthole.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.api.v1alpha1.Audience;
import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.cli.ForwardRelayInfo;
import dev.porthole.cli.Forwarder;
import dev.porthole.cli.ForwarderConfig;
import dev.porthole.cli.KubernetesCsrCertificateSource;
import dev.porthole.operator.support.EchoServer;
import dev.porthole.operator.support.Forwards;
import dev.porthole.operator.support.PodAgent;
import dev.porthole.operator.support.RunningOperator;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.sidecar.Agent;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.Kubelet;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The relay as its own Deployment runs it, on the real control plane: its own ServiceAccount bound to exactly the
 * relay's ClusterRole (the chart's, ChartRenderIT checks they are equal), the operator binding no data-plane port and
 * learning agents and sessions from the relay's Events, the relay cutting sessions from what its informer sees.
 */
@LocalCluster
class SeparateRelayIT {
    private static RunningOperator operator;
    private static boolean usersBound;
    private KubernetesClient admin;
    private TestCluster cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void start(TestCluster cluster) {
        this.cluster = cluster;
        this.admin = cluster.admin();
        if (operator == null) {
            operator = RunningOperator.startWithSeparateRelay(cluster);
        }
        if (!usersBound) {
            OperatorIdentity.bindConnect(admin, Identity.ALICE.username());
            usersBound = true;
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @AfterAll
    static void stop() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    @Test
    @DisplayName("a session runs through the separate relay; the operator, which binds no relay port, learns the agent and"
            + " the session from the relay's Events")
    void sessionThroughTheSeparateRelay(TestNamespace ns) throws Exception {
        // given
        assertThat(operator.operator().relay()).as("the operator runs no relay").isNull();
        activeForward(ns, "db");

        // when
        Forwarder forwarder = connect(ns.name() + "/db");
        try (Socket s = openSession(forwarder)) {
            assertThat(exchange(s, "through the separate relay")).isEqualTo("through the separate relay");
        }

        // then: status, from the relay's Events
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            PortForward pf = get(ns, "db");
            assertThat(pf.getStatus().getConditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("AgentConnected");
                assertThat(c.getStatus()).isEqualTo("True");
            });
            assertThat(pf.getStatus().getSessions().getTotal()).isEqualTo(1);
            assertThat(pf.getStatus().getSessions().getBytesIn()).isEqualTo("through the separate relay".length());
        });
        assertThat(Forwards.eventReasons(admin, ns.name(), "db")).contains("AgentConnected", "SessionOpened", "SessionClosed");
    }

    @Test
    @DisplayName("a live session goes on while the operator restarts: the same connection carries bytes before, during"
            + " and after, and new sessions open once it is back")
    void liveSessionSurvivesOperatorRestart(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db");
        Forwarder forwarder = connect(ns.name() + "/db");
        Socket live = openSession(forwarder);
        assertThat(exchange(live, "before")).isEqualTo("before");

        // when: the operator goes away, and comes back
        operator.stop();
        assertThat(exchange(live, "while the operator is away")).isEqualTo("while the operator is away");
        operator.restart();

        // then: the same session, and a new one
        assertThat(exchange(live, "after")).isEqualTo("after");
        try (Socket fresh = openSession(forwarder)) {
            assertThat(exchange(fresh, "a new session")).isEqualTo("a new session");
        }
        assertThat(exchange(live, "still the first")).isEqualTo("still the first");
    }

    @Test
    @DisplayName("deleting a forward cuts its live session through the separate relay within a second")
    void revocationCutsLiveSession(TestNamespace ns) throws Exception {
        // given
        activeForward(ns, "db");
        Forwarder forwarder = connect(ns.name() + "/db");
        Socket live = openSession(forwarder);
        assertThat(exchange(live, "ping")).isEqualTo("ping");
        CompletableFuture<Integer> end = CompletableFuture.supplyAsync(() -> {
            try {
                return live.getInputStream().read();
            } catch (IOException e) {
                return -2;
            }
        });

        // when
        admin.resources(PortForward.class).inNamespace(ns.name()).withName("db").delete();

        // then
        assertThat(end.get(1, java.util.concurrent.TimeUnit.SECONDS)).isLessThan(0);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(forwarder.termination()).isDone());
        assertThat(forwarder.termination().join().reason()).isEqualTo(dev.porthole.protocol.EndReason.REVOKED);
    }

    @Test
    @DisplayName("the relay's ServiceAccount reads forwards and policies and writes Events, and may do nothing else:"
            + " no Secret, no pod, no ephemeral container, no status")
    void relayHoldsOnlyItsRights(TestNamespace ns) throws Exception {
        // given
        KubernetesClient relay = operator.relayClient();
        activeForward(ns, "db");

        // then: what it needs works
        assertThat(relay.resources(PortForward.class).inAnyNamespace().list().getItems()).isNotEmpty();
        assertThat(relay.resources(dev.porthole.api.v1alpha1.PortForwardPolicy.class).inAnyNamespace().list()).isNotNull();
        // and nothing else
        assertThatThrownBy(() -> relay.secrets().inNamespace(ns.name()).list()).isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> relay.secrets().inNamespace(operator.namespace()).withName("porthole-ca").get())
                .isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> relay.pods().inNamespace(ns.name()).list()).isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> relay.pods().inNamespace(ns.name()).withName("db-0").ephemeralContainers()
                .edit(p -> new PodBuilder(p).build())).isInstanceOf(KubernetesClientException.class);
        PortForward pf = get(ns, "db");
        pf.getStatus().setMessage("written by the relay");
        assertThatThrownBy(() -> relay.resource(pf).updateStatus()).isInstanceOf(KubernetesClientException.class)
                .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
        assertThatThrownBy(() -> relay.resources(PortForward.class).inNamespace(ns.name()).withName("db").delete())
                .isInstanceOf(KubernetesClientException.class);
    }

    private void activeForward(TestNamespace ns, String name) throws IOException {
        EchoServer echo = new EchoServer();
        toClose.add(echo);
        Kubelet.runningPod(admin, ns.name(), "db-0", Map.of(), "echo", echo.port());
        PortForward pf = Forwards.toPod(ns.name(), name, "db-0", echo.port(), "10m");
        pf.getSpec().setAudience(Audience.users("alice"));
        admin.resource(pf).create();
        await().atMost(Duration.ofSeconds(20)).until(() -> get(ns, name),
                f -> f.getStatus() != null && f.getStatus().getPhase() == Phase.Active);
        Agent agent = PodAgent.start(admin, ns.name(), "db-0");
        toClose.add(agent);
        await().atMost(Duration.ofSeconds(15)).until(() -> operator.relay().server()
                .isAgentConnected(new ForwardRef(ns.name(), name)));
    }

    private Forwarder connect(String forward) {
        KubernetesClient alice = cluster.clientFor(Identity.ALICE);
        ForwardRelayInfo info = ForwardRelayInfo.of(alice, ForwardRef.parse(forward));
        Forwarder f = new Forwarder(ForwarderConfig.of(ForwardRef.parse(forward), InetAddress.getLoopbackAddress(), 0,
                info.relayHost(), info.relayPort(), info.ca(), new KubernetesCsrCertificateSource(alice, info.remaining(),
                        Duration.ofSeconds(30), line -> { })), line -> { }).start();
        toClose.add(f);
        return f;
    }

    private Socket openSession(Forwarder forwarder) throws IOException {
        Socket s = new Socket(forwarder.localAddress().getAddress(), forwarder.localAddress().getPort());
        s.setSoTimeout(10_000);
        toClose.add(s);
        return s;
    }

    private static String exchange(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = s.getInputStream();
        return new String(in.readNBytes(text.length()), StandardCharsets.UTF_8);
    }

    private PortForward get(TestNamespace ns, String name) {
        return admin.resources(PortForward.class).inNamespace(ns.name()).withName(name).get();
    }
}
