package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.Protocol;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.relay.RelayServer;
import dev.porthole.relay.SessionListener;
import dev.porthole.sidecar.Agent;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Client forwarder → relay → agent → target, all real Netty and TLS on loopback, in one JVM. */
class DataPlaneIT {

    private final DataPlane plane = new DataPlane();
    private final List<AutoCloseable> targets = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
        for (AutoCloseable target : targets) {
            target.close();
        }
    }

    private Targets.Target target(Targets.Target target) {
        targets.add(target);
        return target;
    }

    private Forwarder connectedForwarder(int targetPort) {
        return connectedForwarder(targetPort, line -> { });
    }

    private Forwarder connectedForwarder(int targetPort, java.util.function.Consumer<String> lines) {
        plane.agent(targetPort);
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
        return plane.forwarder(plane.forwarderConfig(DataPlane.FORWARD,
                plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt), InetAddress.getLoopbackAddress()), lines);
    }

    private static Socket dial(Forwarder forwarder) throws IOException {
        Socket socket = new Socket();
        socket.connect(forwarder.localAddress(), 5000);
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static byte[] echoRoundTrip(Forwarder forwarder, byte[] payload) throws IOException {
        try (Socket socket = dial(forwarder)) {
            socket.getOutputStream().write(payload);
            socket.shutdownOutput();
            return socket.getInputStream().readAllBytes();
        }
    }

    @Test
    @DisplayName("100 MiB sent through the tunnel arrive with the same SHA-256")
    void largeTransferIntact() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.hasher()).port());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(42);
        byte[] chunk = new byte[1024 * 1024];
        String answer;
        // when
        try (Socket socket = dial(forwarder)) {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < 100; i++) {
                random.nextBytes(chunk);
                sha.update(chunk);
                out.write(chunk);
            }
            socket.shutdownOutput();
            answer = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
        }
        // then
        assertThat(answer).isEqualTo(HexFormat.of().formatHex(sha.digest()) + " " + 100L * 1024 * 1024);
        await().atMost(Duration.ofSeconds(5)).until(() -> !plane.closed.isEmpty());
        // the audit's count is the payload's, as the agent passed it to the target (the relay carried ciphertext)
        assertThat(plane.closed.get(0).bytesFromClient()).isEqualTo(100L * 1024 * 1024);
        assertThat(plane.closed.get(0).reason()).isIn(EndReason.CLIENT_CLOSED, EndReason.TARGET_CLOSED);
    }

    @Test
    @DisplayName("100 concurrent sessions through one agent each echo their own bytes")
    void hundredConcurrentStreams() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        ExecutorService clients = Executors.newFixedThreadPool(100);
        List<Future<Boolean>> results = new ArrayList<>();
        // when
        for (int i = 0; i < 100; i++) {
            int seed = i;
            results.add(clients.submit(() -> {
                byte[] payload = new byte[64 * 1024];
                new Random(seed).nextBytes(payload);
                return Arrays.equals(echoRoundTrip(forwarder, payload), payload);
            }));
        }
        // then
        for (Future<Boolean> result : results) {
            assertThat(result.get(60, TimeUnit.SECONDS)).isTrue();
        }
        clients.shutdown();
        assertThat(plane.relay.stats().sessionsOpened()).isEqualTo(100);
    }

    @Test
    @DisplayName("a reader that stops reading stalls neither other streams nor the relay's memory")
    void slowReaderIsolated() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.mixed()).port());
        Socket slow = new Socket();
        slow.setReceiveBufferSize(4096);
        slow.connect(forwarder.localAddress());
        slow.getOutputStream().write('F');
        assertThat(slow.getInputStream().readNBytes(1000)).hasSize(1000);
        // when: the slow reader reads no more while other streams run
        byte[] payload = new byte[256 * 1024];
        new Random(7).nextBytes(payload);
        for (int i = 0; i < 20; i++) {
            byte[] echoed = new byte[payload.length + 1];
            try (Socket socket = dial(forwarder)) {
                socket.getOutputStream().write('E');
                socket.getOutputStream().write(payload);
                socket.shutdownOutput();
                echoed = socket.getInputStream().readAllBytes();
            }
            assertThat(echoed).hasSize(payload.length + 1);
            assertThat(Arrays.mismatch(Arrays.copyOfRange(echoed, 1, echoed.length), payload)).isEqualTo(-1);
        }
        // then
        long bound = 4L * Protocol.DEFAULT_WINDOW + 256 * 1024;
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10))
                .until(() -> plane.relay.bufferedBytes().get() <= bound);
        assertThat(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory()).isLessThan(64L * 1024 * 1024);
        slow.close();
    }

    @Test
    @DisplayName("after the relay restarts on the same ports, the agent reconnects and the same CLI listener works again")
    void relayRestartKeepsTheCli() throws Exception {
        // given
        List<String> lines = new CopyOnWriteArrayList<>();
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port(), lines::add);
        assertThat(echoRoundTrip(forwarder, "before".getBytes())).isEqualTo("before".getBytes());
        int agentPort = plane.relay.agentPort();
        int clientPort = plane.relay.clientPort();

        // when
        plane.relay.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> lines.stream().anyMatch(l -> l.contains("reconnecting")));
        plane.relay = plane.startRelay(agentPort, clientPort);

        // then: the forwarder never stopped; once it is back on the relay, its old local port carries new sessions
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
        await().atMost(Duration.ofSeconds(15)).until(() -> lines.stream().anyMatch(l -> l.startsWith("reconnected")));
        assertThat(echoRoundTrip(forwarder, "after".getBytes())).isEqualTo("after".getBytes());
        assertThat(forwarder.termination()).isNotDone();
        assertThat(lines).anyMatch(l -> l.startsWith("relay is shutting down"));
        // and closing it is its own end, not a relay to reconnect to
        int before = lines.size();
        forwarder.close();
        assertThat(lines.subList(before, lines.size())).noneMatch(l -> l.contains("reconnecting"));
    }

    @Test
    @DisplayName("a draining relay accepts nothing new, lets a live session finish, and stops as soon as it has")
    void drainLetsLiveSessionsFinish() throws Exception {
        // given: a live session
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        Socket live = dial(forwarder);
        live.getOutputStream().write("one".getBytes());
        assertThat(live.getInputStream().readNBytes(3)).isEqualTo("one".getBytes());
        InetSocketAddress clientListener = plane.relay.clientAddress();

        // when
        CompletableFuture<Void> drained = plane.relay.drain(Duration.ofSeconds(30));

        // then: no new connection gets in, the live session still carries bytes
        KeyMaterial key = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);
        assertThatThrownBy(() -> plane.forwarder(ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(), 0,
                "localhost", clientListener.getPort(), plane.ca.certificate(), f -> key)))
                .isInstanceOf(ForwarderException.class);
        live.getOutputStream().write("two".getBytes());
        assertThat(live.getInputStream().readNBytes(3)).isEqualTo("two".getBytes());
        assertThat(drained).isNotDone();
        // and when it ends, the relay stops long before its grace is over
        live.close();
        drained.get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(2)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed.get(0).reason()).isEqualTo(EndReason.CLIENT_CLOSED);
    }

    @Test
    @DisplayName("a session still open when the drain's grace ends is cut as RELAY_SHUTDOWN")
    void drainGraceCutsWhatIsLeft() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        Socket live = dial(forwarder);
        live.getOutputStream().write("one".getBytes());
        assertThat(live.getInputStream().readNBytes(3)).isEqualTo("one".getBytes());

        // when
        long started = System.nanoTime();
        plane.relay.drain(Duration.ofSeconds(1)).get(10, TimeUnit.SECONDS);

        // then
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(readOrEnd(live.getInputStream())).isEqualTo(-1);
        await().atMost(Duration.ofSeconds(2)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed.get(0).reason()).isEqualTo(EndReason.RELAY_SHUTDOWN);
        live.close();
    }

    @Test
    @DisplayName("a target that refuses connections ends the session as TARGET_REFUSED")
    void targetRefuses() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(Targets.closedPort());
        // when
        int read;
        try (Socket socket = dial(forwarder)) {
            read = socket.getInputStream().read();
        }
        // then
        assertThat(read).isEqualTo(-1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed.get(0).reason()).isEqualTo(EndReason.TARGET_REFUSED);
    }

    @Test
    @DisplayName("a target that drops connections ends the session as TARGET_CLOSED")
    void targetDrops() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.dropper()).port());
        // when
        int read;
        try (Socket socket = dial(forwarder)) {
            read = socket.getInputStream().read();
        }
        // then
        assertThat(read).isEqualTo(-1);
        await().atMost(Duration.ofSeconds(5)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed.get(0).reason()).isEqualTo(EndReason.TARGET_CLOSED);
    }

    @Test
    @DisplayName("the agent's deadline ends the agent and its open streams")
    void deadlineEndsAgent() throws Exception {
        // given
        int port = target(Targets.echo()).port();
        Agent agent = plane.agent(plane.agentConfig(DataPlane.FORWARD, "agent-token-1", port,
                Instant.now().plusSeconds(3)));
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
        Forwarder forwarder = plane.forwarder();
        Socket socket = dial(forwarder);
        socket.getOutputStream().write("ping".getBytes());
        assertThat(socket.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes());
        // when
        String why = agent.termination().get(10, TimeUnit.SECONDS);
        // then
        assertThat(why).contains("deadline");
        assertThat(socket.getInputStream().read()).isEqualTo(-1);
        socket.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed.get(0).reason()).isEqualTo(EndReason.EXPIRED);
        assertThat(plane.relay.isAgentConnected(DataPlane.FORWARD)).isFalse();
    }

    @Test
    @DisplayName("an agent with a wrong or missing token is refused and never registered")
    void wrongTokenRefused() {
        // given
        int port = 9;
        // when
        plane.agent(plane.agentConfig(DataPlane.FORWARD, "wrong-token", port, Instant.now().plusSeconds(60)));
        plane.agent(plane.agentConfig(DataPlane.FORWARD, "", port, Instant.now().plusSeconds(60)));
        // then
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.stats().agentsRejected() >= 2);
        assertThat(plane.relay.isAgentConnected(DataPlane.FORWARD)).isFalse();
        assertThat(plane.agentEvents).isEmpty();
    }

    @Test
    @DisplayName("a client certificate for another forward is refused with the reason")
    void certificateForAnotherForwardRefused() {
        // given
        ForwarderConfig config = plane.forwarderConfig(DataPlane.FORWARD,
                plane.clientKey(ForwardRef.parse("shop/cache"), Instant.now().plusSeconds(600)), InetAddress.getLoopbackAddress());
        // when / then
        assertThatThrownBy(() -> plane.forwarder(config)).isInstanceOf(ForwarderException.class)
                .hasMessageContaining("certificate is for forward shop/cache, not shop/orders-db");
        await().atMost(Duration.ofSeconds(2)).until(() -> plane.denied.size() == 1);
        assertThat(plane.relay.stats().sessionsDenied()).isEqualTo(1);
    }

    @Test
    @DisplayName("an expired client certificate is refused with the reason")
    void expiredCertificateRefused() {
        // given
        ForwarderConfig config = plane.forwarderConfig(DataPlane.FORWARD,
                plane.clientKey(DataPlane.FORWARD, Instant.now().minusSeconds(60)), InetAddress.getLoopbackAddress());
        // when / then
        assertThatThrownBy(() -> plane.forwarder(config)).isInstanceOf(ForwarderException.class)
                .hasMessageContaining("certificate expired at");
    }

    @Test
    @DisplayName("the relay itself holds a forward to maxSessions, whatever the authorizer counted")
    void relayEnforcesSessionLimit() throws Exception {
        // given: an authorizer that allows every session with a limit of 1 and counts nothing itself
        plane.maxSessions = 1;
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        Socket first = dial(forwarder);
        first.getOutputStream().write("one".getBytes());
        assertThat(first.getInputStream().readNBytes(3)).isEqualTo("one".getBytes());
        // when: a second session while the first is open
        int secondRead;
        try (Socket second = dial(forwarder)) {
            second.getOutputStream().write("two".getBytes());
            secondRead = readOrEnd(second.getInputStream());
        }
        // then: refused with the reason, and the first session still works
        assertThat(secondRead).isEqualTo(-1);
        await().atMost(Duration.ofSeconds(2)).until(() -> !plane.denied.isEmpty());
        assertThat(plane.denied).extracting(SessionListener.Denied::reason).containsExactly(EndReason.DENIED);
        assertThat(plane.denied.get(0).message()).contains("already has its maximum of 1 sessions");
        first.getOutputStream().write("again".getBytes());
        assertThat(first.getInputStream().readNBytes(5)).isEqualTo("again".getBytes());
        // and when the first ends, a new session fits again
        first.close();
        await().atMost(Duration.ofSeconds(2)).until(() -> !plane.closed.isEmpty());
        assertThat(echoRoundTrip(forwarder, "three".getBytes())).isEqualTo("three".getBytes());
    }

    @Test
    @DisplayName("a Cluster-scope forward is refused through the relay's external listener and works through the in-cluster one")
    void clusterScopeOnlyFromInside() throws Exception {
        // given: a relay with an external client listener, as behind a load balancer, and a Cluster-scope forward
        plane.relay.close();
        plane.relay = plane.startRelay(0, 0, b -> b.externalClientPort(0));
        plane.scopes.put(DataPlane.FORWARD, BindScope.CLUSTER);
        Forwarder inside = connectedForwarder(target(Targets.echo()).port());
        KeyMaterial key = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);
        ForwarderConfig throughExternal = ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(), 0,
                "localhost", plane.relay.externalClientAddress().orElseThrow().getPort(), plane.ca.certificate(), f -> key);

        // when / then: from outside it is refused with the reason, from inside it works
        assertThatThrownBy(() -> plane.forwarder(throughExternal)).isInstanceOf(ForwarderException.class)
                .hasMessageContaining("has bind scope Cluster, so it is used only from inside the cluster");
        assertThat(echoRoundTrip(inside, "inside".getBytes())).isEqualTo("inside".getBytes());
        assertThat(plane.denied).extracting(SessionListener.Denied::message)
                .anyMatch(m -> m.contains("came through the relay's external address"));

        // and a Loopback forward (the CLI binds 127.0.0.1 only) is fine through the external listener
        plane.scopes.put(DataPlane.FORWARD, BindScope.LOOPBACK);
        assertThat(echoRoundTrip(plane.forwarder(throughExternal), "outside".getBytes())).isEqualTo("outside".getBytes());
    }

    @Test
    @DisplayName("behind a balancer that sends the PROXY protocol, the header's client address is the one sourceRanges and the audit see")
    void proxyProtocolGivesTheClientAddress() throws Exception {
        // given: an external listener that expects the PROXY protocol, and a Public forward for 203.0.113.0/24
        plane.relay.close();
        plane.relay = plane.startRelay(0, 0, b -> b.externalClientPort(0)
                .externalClientAddresses(dev.porthole.relay.ClientAddresses.PROXY_PROTOCOL));
        plane.scopes.put(DataPlane.FORWARD, BindScope.PUBLIC);
        plane.sourceRanges = java.util.List.of("203.0.113.0/24");
        int echo = target(Targets.echo()).port();
        plane.agent(echo);
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.relay.isAgentConnected(DataPlane.FORWARD));
        KeyMaterial key = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);
        try (ProxyProtocolFront front = new ProxyProtocolFront(plane.relay.externalClientAddress().orElseThrow(),
                "203.0.113.7")) {
            ForwarderConfig throughFront = ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(), 0,
                    "localhost", front.port(), plane.ca.certificate(), f -> key);

            // when / then: a client the header places inside the ranges gets through, recorded with that address
            Forwarder forwarder = plane.forwarder(throughFront);
            assertThat(echoRoundTrip(forwarder, "proxied".getBytes())).isEqualTo("proxied".getBytes());
            assertThat(plane.opened).extracting(o -> o.clientAddress().getAddress().getHostAddress()).contains("203.0.113.7");

            // and one it places outside is refused
            front.client("198.51.100.1");
            assertThatThrownBy(() -> plane.forwarder(throughFront)).isInstanceOf(ForwarderException.class)
                    .hasMessageContaining("client address 198.51.100.1 is outside the sourceRanges");
        }
        // and a connection without a header is closed as a protocol error, the listener unharmed
        long errors = plane.relay.stats().protocolErrors();
        assertThatThrownBy(() -> plane.forwarder(ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(), 0,
                "localhost", plane.relay.externalClientAddress().orElseThrow().getPort(), plane.ca.certificate(), f -> key)))
                .isInstanceOf(ForwarderException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> plane.relay.stats().protocolErrors() > errors);
    }

    @Test
    @DisplayName("behind a proxy that hides client addresses, a Public forward is refused through the external listener")
    void unknownAddressesRefusePublic() throws Exception {
        // given
        plane.relay.close();
        plane.relay = plane.startRelay(0, 0, b -> b.externalClientPort(0)
                .externalClientAddresses(dev.porthole.relay.ClientAddresses.UNKNOWN));
        plane.scopes.put(DataPlane.FORWARD, BindScope.PUBLIC);
        plane.sourceRanges = java.util.List.of("127.0.0.0/8");
        connectedForwarder(target(Targets.echo()).port());
        KeyMaterial key = plane.clientKey(DataPlane.FORWARD, plane.forwardExpiresAt);

        // when / then
        assertThatThrownBy(() -> plane.forwarder(ForwarderConfig.of(DataPlane.FORWARD, InetAddress.getLoopbackAddress(), 0,
                "localhost", plane.relay.externalClientAddress().orElseThrow().getPort(), plane.ca.certificate(), f -> key)))
                .isInstanceOf(ForwarderException.class)
                .hasMessageContaining("cannot see client addresses on its external listener");
    }

    @Test
    @DisplayName("a session whose opening cannot be recorded is refused (fail closed); the next one, recorded, works")
    void unrecordedSessionIsRefused() throws Exception {
        // given: an audit trail that cannot take records
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        plane.failOpenings = new IllegalStateException("audit trail unavailable");

        // when
        int read;
        try (Socket refused = dial(forwarder)) {
            refused.getOutputStream().write("lost".getBytes());
            read = readOrEnd(refused.getInputStream());
        }

        // then: no byte reached the target and back, nothing is open, and the refusal is counted
        assertThat(read).isEqualTo(-1);
        assertThat(plane.opened).isEmpty();
        await().atMost(Duration.ofSeconds(2)).until(() -> plane.relay.stats().sessionsUnrecorded() == 1);
        assertThat(plane.relay.stats().sessionsActive()).isZero();
        assertThat(plane.relay.stats().sessionsOpened()).isZero();

        // and when the audit trail is back
        plane.failOpenings = null;
        assertThat(echoRoundTrip(forwarder, "kept".getBytes())).isEqualTo("kept".getBytes());
        assertThat(plane.opened).hasSize(1);
    }

    @Test
    @DisplayName("closeForward cuts a live session in under a second and tells the client it was revoked")
    void closeForwardCutsLiveSession() throws Exception {
        // given
        Forwarder forwarder = connectedForwarder(target(Targets.echo()).port());
        Socket socket = dial(forwarder);
        socket.getOutputStream().write("ping".getBytes());
        assertThat(socket.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes());
        // when
        long start = System.nanoTime();
        plane.relay.closeForward(DataPlane.FORWARD, EndReason.REVOKED);
        int read = readOrEnd(socket.getInputStream());
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        // then
        assertThat(read).isEqualTo(-1);
        assertThat(elapsedMillis).isLessThan(1000);
        assertThat(forwarder.termination().get(1, TimeUnit.SECONDS).reason()).isEqualTo(EndReason.REVOKED);
        await().atMost(Duration.ofSeconds(1)).until(() -> !plane.closed.isEmpty());
        assertThat(plane.closed).extracting(SessionListener.Closed::reason).containsExactly(EndReason.REVOKED);
        socket.close();
    }

    @Test
    @DisplayName("the forwarder refuses 0.0.0.0 for a loopback forward and allows it for a cluster one")
    void bindScopeEnforced() throws Exception {
        // given
        InetAddress any = InetAddress.getByName("0.0.0.0");
        ForwarderConfig wildcard = plane.forwarderConfig(DataPlane.FORWARD,
                plane.clientKey(DataPlane.FORWARD, Instant.now().plusSeconds(600)), any);
        // when / then
        assertThatThrownBy(() -> plane.forwarder(wildcard)).isInstanceOf(ForwarderException.class)
                .hasMessageContaining("refusing to listen on 0.0.0.0").hasMessageContaining("LOOPBACK");
        plane.scopes.put(DataPlane.FORWARD, BindScope.CLUSTER);
        Forwarder cluster = plane.forwarder(wildcard);
        assertThat(cluster.localAddress().getAddress().isAnyLocalAddress()).isTrue();
        assertThat(cluster.scope()).isEqualTo(BindScope.CLUSTER);
    }

    private static int readOrEnd(InputStream in) {
        try {
            return in.read();
        } catch (IOException reset) {
            return -1;
        }
    }
}
