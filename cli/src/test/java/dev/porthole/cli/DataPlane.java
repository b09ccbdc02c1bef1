package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.BindScope;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.relay.AgentListener;
import dev.porthole.relay.Decision;
import dev.porthole.relay.RelayServer;
import dev.porthole.relay.SessionListener;
import dev.porthole.sidecar.Agent;
import dev.porthole.sidecar.AgentConfig;
import java.net.InetAddress;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.security.cert.X509Certificate;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A whole data plane in one JVM for tests: a CA, a relay on ephemeral loopback ports, agents and
 * forwarders. Forwards are registered with a token, a bind scope and an expiry.
 */
final class DataPlane implements AutoCloseable {

    static final ForwardRef FORWARD = new ForwardRef("shop", "orders-db");
    static final String USER = "alice@example.com";

    final CertificateAuthority ca = CertificateAuthority.create("porthole-test-ca", Duration.ofDays(1));
    final KeyMaterial relayKey = ca.issueServerCertificate("porthole-relay", List.of("localhost", "127.0.0.1"),
            Duration.ofDays(1));
    final Map<ForwardRef, String> tokens = new ConcurrentHashMap<>();
    final Map<ForwardRef, BindScope> scopes = new ConcurrentHashMap<>();
    final List<SessionListener.Opened> opened = new CopyOnWriteArrayList<>();
    final List<SessionListener.Closed> closed = new CopyOnWriteArrayList<>();
    final List<SessionListener.Denied> denied = new CopyOnWriteArrayList<>();
    final List<String> agentEvents = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    Instant forwardExpiresAt = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    /** The session limit the authorizer hands the relay (0: none); the authorizer itself counts nothing. */
    volatile int maxSessions;
    /** The sourceRanges a Public forward is limited to (IPv4 CIDRs). */
    volatile List<String> sourceRanges = List.of("0.0.0.0/0");

    private boolean inSourceRanges(java.net.InetSocketAddress client) {
        byte[] a = client.getAddress().getAddress();
        for (String cidr : sourceRanges) {
            String[] parts = cidr.split("/");
            byte[] net;
            try {
                net = java.net.InetAddress.getByName(parts[0]).getAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(cidr, e);
            }
            int bits = Integer.parseInt(parts[1]);
            if (a.length != net.length) {
                continue;
            }
            long mask = bits == 0 ? 0 : -1L << (32 - bits) & 0xffffffffL;
            long x = java.nio.ByteBuffer.wrap(a).getInt() & 0xffffffffL;
            long n = java.nio.ByteBuffer.wrap(net).getInt() & 0xffffffffL;
            if ((x & mask) == (n & mask)) {
                return true;
            }
        }
        return false;
    }

    /** When set, the session listener fails to record openings with it (an audit trail that is down). */
    volatile RuntimeException failOpenings;
    RelayServer relay;

    DataPlane() {
        tokens.put(FORWARD, "agent-token-1");
        scopes.put(FORWARD, BindScope.LOOPBACK);
        relay = startRelay(0, 0);
    }

    RelayServer startRelay(int agentPort, int clientPort) {
        return startRelay(agentPort, clientPort, java.util.function.UnaryOperator.identity());
    }

    /** A relay as {@link #startRelay(int, int)}, with its builder adjusted by {@code tune} before it starts. */
    RelayServer startRelay(int agentPort, int clientPort, java.util.function.UnaryOperator<RelayServer.Builder> tune) {
        return tune.apply(RelayServer.builder()
                .agentPort(agentPort).clientPort(clientPort)
                .serverKey(relayKey).clientCa(ca.certificate())
                .keepAlive(Duration.ofSeconds(5))
                .agentAuthenticator((forward, token) -> token.equals(tokens.get(forward)))
                .sessionAuthorizer((identity, forward, address) -> !scopes.containsKey(forward)
                        ? Decision.deny("forward " + forward + " does not exist")
                        : scopes.get(forward) == BindScope.PUBLIC && !inSourceRanges(address)
                        ? Decision.deny("client address " + address.getAddress().getHostAddress()
                                + " is outside the sourceRanges of forward " + forward)
                        : Decision.allow(scopes.get(forward), forwardExpiresAt, maxSessions))
                .sessionListener(new SessionListener() {
                    @Override
                    public void opened(Opened session) {
                        RuntimeException failure = failOpenings;
                        if (failure != null) {
                            throw failure;
                        }
                        opened.add(session);
                    }

                    @Override
                    public void closed(Closed session) {
                        closed.add(session);
                    }

                    @Override
                    public void denied(Denied denial) {
                        denied.add(denial);
                    }
                })
                .agentListener(new AgentListener() {
                    @Override
                    public void connected(ForwardRef forward, java.net.InetSocketAddress remoteAddress) {
                        agentEvents.add("connected " + forward);
                    }

                    @Override
                    public void disconnected(ForwardRef forward, java.net.InetSocketAddress remoteAddress,
                                             dev.porthole.protocol.EndReason reason, String message) {
                        agentEvents.add("disconnected " + forward + " " + reason);
                    }
                })
                ).build().start();
    }

    AgentConfig agentConfig(ForwardRef forward, String token, int targetPort, Instant deadline) {
        return AgentConfig.of("localhost", relay.agentPort(), forward, token, ca.certificate(), agentKey(forward),
                "127.0.0.1", targetPort, deadline).withBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
    }

    /** The forward's uid in this plane: client and agent certificates carry it. */
    static String uid(ForwardRef forward) {
        return "dataplane-" + forward.namespace() + "-" + forward.name();
    }

    /** The agent certificate the operator would issue for {@code forward}, valid for a day. */
    KeyMaterial agentKey(ForwardRef forward) {
        return ca.issueAgentCertificate(new dev.porthole.protocol.pki.AgentIdentity(forward, uid(forward),
                Instant.now().plus(Duration.ofDays(1))));
    }

    Agent agent(int targetPort) {
        return agent(agentConfig(FORWARD, tokens.get(FORWARD), targetPort, Instant.now().plus(Duration.ofHours(1))));
    }

    Agent agent(AgentConfig config) {
        Agent agent = new Agent(config, Clock.systemUTC()).start();
        resources.add(agent);
        return agent;
    }

    KeyMaterial clientKey(ForwardRef forward, Instant notAfter) {
        KeyPair keys = CertificateAuthority.generateKeyPair();
        return new KeyMaterial(keys.getPrivate(), List.of(ca.issueClientCertificate(keys.getPublic(),
                new ClientIdentity(USER, List.of("sre-oncall"), forward, uid(forward), notAfter))));
    }

    ForwarderConfig forwarderConfig(ForwardRef forward, KeyMaterial key, InetAddress bind) {
        return ForwarderConfig.of(forward, bind, 0, "localhost", relay.clientPort(), ca.certificate(), f -> key);
    }

    Forwarder forwarder() {
        return forwarder(forwarderConfig(FORWARD, clientKey(FORWARD, forwardExpiresAt), InetAddress.getLoopbackAddress()));
    }

    Forwarder forwarder(ForwarderConfig config) {
        return forwarder(config, line -> { });
    }

    /** A started forwarder whose event lines go to {@code lines} (and to the test's output). */
    Forwarder forwarder(ForwarderConfig config, java.util.function.Consumer<String> lines) {
        Forwarder forwarder = new Forwarder(config, line -> {
            System.out.println("forwarder: " + line);
            lines.accept(line);
        }).start();
        resources.add(forwarder);
        return forwarder;
    }

    /** A JDK TLS 1.3 context trusting the plane's CA, presenting {@code clientKey} when not null (raw-socket tests). */
    SSLContext sslContext(KeyMaterial clientKey) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientKey != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", clientKey.privateKey(), new char[0],
                    clientKey.chain().toArray(X509Certificate[]::new));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    /** Closes what the test started, newest first, then the relay. */
    @Override
    public void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        relay.close();
    }
}
