package dev.porthole.e2e.podrunner;

import dev.porthole.cli.Forwarder;
import dev.porthole.cli.ForwarderConfig;
import dev.porthole.protocol.BindScope;
import dev.porthole.protocol.pki.CertificateAuthority;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import dev.porthole.relay.AgentListener;
import dev.porthole.relay.Decision;
import dev.porthole.relay.RelayServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real relay for one test: a fresh CA, a serving certificate for the runner's host address, agents
 * admitted by comparing their token with the one the test registered, sessions allowed for client
 * certificates of that forward. Listens on the host end of the pod bridge, where pods reach it.
 */
final class TestRelay implements AutoCloseable {
    private final CertificateAuthority ca = CertificateAuthority.create("porthole-e2e-ca", Duration.ofHours(1));
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final Set<String> connected = ConcurrentHashMap.newKeySet();
    private final String host;
    private final RelayServer relay;

    TestRelay(String hostAddress) {
        this.host = hostAddress;
        KeyMaterial serverKey = ca.issueServerCertificate("porthole-relay", List.of(hostAddress), Duration.ofHours(1));
        this.relay = RelayServer.builder()
                .bindAddress(hostAddress)
                .serverKey(serverKey)
                .clientCa(ca.certificate())
                .agentAuthenticator((forward, token) -> token != null && token.equals(tokens.get(forward)))
                .sessionAuthorizer((identity, forward, address) ->
                        Decision.allow(BindScope.LOOPBACK, Instant.now().plus(Duration.ofMinutes(10))))
                .agentListener(new AgentListener() {
                    @Override
                    public void connected(String forward, InetSocketAddress remoteAddress) {
                        connected.add(forward);
                    }
                })
                .workerThreads(2)
                .build().start();
    }

    /** Admits agents of {@code forward} that present {@code token}. */
    void allowAgent(String forward, String token) {
        tokens.put(forward, token);
    }

    RelayServer server() {
        return relay;
    }

    /** Whether the relay's {@link AgentListener#connected} fired for {@code forward}. */
    boolean agentConnectedEventSeen(String forward) {
        return connected.contains(forward);
    }

    /** {@code host:port} of the agent listener, as the agent's PORTHOLE_RELAY_ADDRESS. */
    String agentAddress() {
        return host + ":" + relay.agentPort();
    }

    String caPem() {
        return Pem.write(ca.certificate());
    }

    /** A started client forwarder on 127.0.0.1 (port picked by the system) with a fresh client certificate for {@code forward}. */
    Forwarder connect(String forward) {
        KeyPair key = CertificateAuthority.generateKeyPair();
        var certificate = ca.issueClientCertificate(key.getPublic(),
                new ClientIdentity("alice", List.of("sre-oncall"), forward, "e2e-" + forward.replace('/', '-'), Instant.now().plus(Duration.ofMinutes(10))));
        KeyMaterial client = new KeyMaterial(key.getPrivate(), List.of(certificate, ca.certificate()));
        return new Forwarder(ForwarderConfig.of(forward, InetAddress.getLoopbackAddress(), 0, host, relay.clientPort(),
                ca.certificate(), f -> client), line -> { }).start();
    }

    @Override
    public void close() {
        relay.close();
    }
}
