package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.tls.ForwardPeerTrust;
import dev.porthole.protocol.tls.TlsContexts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The end-to-end handshake between a client and an agent, with the contexts both ends really use
 * ({@link TlsContexts#sessionClient}, {@link TlsContexts#sessionServer}) and real TLS between two embedded channels:
 * each end accepts exactly the other role's certificate of its own forward. What a relay in between could try (present
 * its own certificate, another forward's agent, a client certificate in the agent's place) fails the handshake, and
 * the failing side says why.
 */
class SessionTrustTest {

    private static final CertificateAuthority CA = CertificateAuthority.create("session-trust-ca", Duration.ofDays(1));
    private static final CertificateAuthority OTHER_CA = CertificateAuthority.create("other-ca", Duration.ofDays(1));
    private static final ForwardRef DB = new ForwardRef("shop", "db");
    private static final ForwardRef CACHE = new ForwardRef("shop", "cache");
    private static final Instant LATER = Instant.now().plus(Duration.ofHours(1));

    private static KeyMaterial agent(CertificateAuthority ca, ForwardRef forward, String uid, Instant notAfter) {
        return ca.issueAgentCertificate(new AgentIdentity(forward, uid, notAfter));
    }

    private static KeyMaterial client(ForwardRef forward, String uid) {
        KeyPair keys = CertificateAuthority.generateKeyPair();
        return new KeyMaterial(keys.getPrivate(), List.of(CA.issueClientCertificate(keys.getPublic(),
                new ClientIdentity("alice", List.of(), forward, uid, LATER))));
    }

    /** A client of shop/db (uid-db) against the given agent-side key. */
    static Stream<Arguments> agentSides() {
        KeyMaterial relay = CA.issueServerCertificate("porthole-relay", List.of("localhost"), Duration.ofDays(1));
        return Stream.of(
                Arguments.of("the agent of its own forward", agent(CA, DB, "uid-db", LATER), null),
                Arguments.of("the agent of another forward", agent(CA, CACHE, "uid-cache", LATER),
                        "agent certificate is for forward shop/cache, not shop/db"),
                Arguments.of("the agent of an earlier forward of the same name", agent(CA, DB, "uid-old", LATER),
                        "agent certificate is for an earlier or later forward named shop/db"),
                Arguments.of("the relay's own certificate", relay, "the peer is not an agent"),
                Arguments.of("a client certificate of the same forward", client(DB, "uid-db"),
                        "certificate is not for server authentication"),
                Arguments.of("an agent certificate of another CA", agent(OTHER_CA, DB, "uid-db", LATER),
                        "agent certificate not issued by the Porthole CA"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("agentSides")
    @DisplayName("a client completes the end-to-end handshake only with its own forward's agent")
    void clientAcceptsOnlyItsAgent(String what, KeyMaterial agentSide, String refusal) {
        // given
        KeyMaterial alice = client(DB, "uid-db");
        SslContext clientTls = TlsContexts.sessionClient(alice, ForwardPeerTrust.agentOf(CA.certificate(), DB, "uid-db",
                Clock.systemUTC()));
        SslContext agentTls = TlsContexts.sessionServer(agentSide, ForwardPeerTrust.clientsOf(CA.certificate(), DB,
                "uid-db", Clock.systemUTC()));

        // when
        Handshake result = Handshake.run(clientTls, agentTls);

        // then
        if (refusal == null) {
            assertThat(result.client.isSuccess()).isTrue();
            assertThat(result.server.isSuccess()).isTrue();
        } else {
            assertThat(result.client.isSuccess()).isFalse();
            assertThat(Handshake.messages(result.client.cause())).contains(refusal);
            assertThat(result.server.isSuccess()).isFalse();
        }
    }

    static Stream<Arguments> clientSides() {
        return Stream.of(
                Arguments.of("a client of the agent's forward", client(DB, "uid-db"), null),
                Arguments.of("a client of another forward", client(CACHE, "uid-cache"),
                        "client certificate is for forward shop/cache, not shop/db"),
                Arguments.of("a client of an earlier forward of the same name", client(DB, "uid-old"),
                        "client certificate is for an earlier or later forward named shop/db"),
                Arguments.of("an agent certificate in a client's place", agent(CA, DB, "uid-db", LATER),
                        "certificate is not for client authentication"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientSides")
    @DisplayName("an agent completes the end-to-end handshake only with a client of its own forward")
    void agentAcceptsOnlyItsClients(String what, KeyMaterial clientSide, String refusal) {
        // given: the client side trusts anything the CA issued for shop/db's agent, so only the agent decides here
        SslContext clientTls = TlsContexts.sessionClient(clientSide, ForwardPeerTrust.agentOf(CA.certificate(), DB,
                "uid-db", Clock.systemUTC()));
        SslContext agentTls = TlsContexts.sessionServer(agent(CA, DB, "uid-db", LATER),
                ForwardPeerTrust.clientsOf(CA.certificate(), DB, "uid-db", Clock.systemUTC()));

        // when
        Handshake result = Handshake.run(clientTls, agentTls);

        // then
        if (refusal == null) {
            assertThat(result.server.isSuccess()).isTrue();
            assertThat(result.client.isSuccess()).isTrue();
        } else {
            assertThat(result.server.isSuccess()).isFalse();
            assertThat(Handshake.messages(result.server.cause())).contains(refusal);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("expired")
    @DisplayName("an agent certificate past its forward's expiry is refused")
    void expiredAgentCertificateRefused(String what, Clock clientClock) {
        SslContext clientTls = TlsContexts.sessionClient(client(DB, "uid-db"), ForwardPeerTrust.agentOf(CA.certificate(),
                DB, "uid-db", clientClock));
        SslContext agentTls = TlsContexts.sessionServer(agent(CA, DB, "uid-db", LATER),
                ForwardPeerTrust.clientsOf(CA.certificate(), DB, "uid-db", Clock.systemUTC()));

        Handshake result = Handshake.run(clientTls, agentTls);

        assertThat(result.client.isSuccess()).isFalse();
        assertThat(Handshake.messages(result.client.cause())).contains("agent certificate is valid from");
    }

    static Stream<Arguments> expired() {
        return Stream.of(Arguments.of("two hours later", Clock.offset(Clock.systemUTC(), Duration.ofHours(2))));
    }

    /** A TLS handshake between two embedded channels, bytes passed back and forth until neither has more to say. */
    private record Handshake(SslHandshakeCompletionEvent client, SslHandshakeCompletionEvent server) {

        static Handshake run(SslContext clientTls, SslContext serverTls) {
            Outcome clientOutcome = new Outcome();
            Outcome serverOutcome = new Outcome();
            EmbeddedChannel client = new EmbeddedChannel();
            EmbeddedChannel server = new EmbeddedChannel();
            SslHandler clientSsl = clientTls.newHandler(client.alloc());
            SslHandler serverSsl = serverTls.newHandler(server.alloc());
            // the OpenSSL engine may run its certificate checks as tasks; run them inline here
            clientSsl.setHandshakeTimeoutMillis(0);
            serverSsl.setHandshakeTimeoutMillis(0);
            server.pipeline().addLast(serverSsl, serverOutcome);
            client.pipeline().addLast(clientSsl, clientOutcome);
            for (int turn = 0; turn < 20 && (clientOutcome.event == null || serverOutcome.event == null); turn++) {
                boolean moved = pass(client, server) | pass(server, client);
                client.runPendingTasks();
                server.runPendingTasks();
                if (!moved && turn > 2) {
                    break;
                }
            }
            client.finishAndReleaseAll();
            server.finishAndReleaseAll();
            return new Handshake(orFailure(clientOutcome.event), orFailure(serverOutcome.event));
        }

        private static SslHandshakeCompletionEvent orFailure(SslHandshakeCompletionEvent event) {
            return event != null ? event : new SslHandshakeCompletionEvent(new IllegalStateException("no outcome"));
        }

        private static boolean pass(EmbeddedChannel from, EmbeddedChannel to) {
            boolean any = false;
            ByteBuf out;
            while ((out = from.readOutbound()) != null) {
                any = true;
                if (to.isActive()) {
                    to.writeInbound(out);
                } else {
                    out.release();
                }
            }
            return any;
        }

        static String messages(Throwable cause) {
            StringBuilder all = new StringBuilder();
            for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
                all.append(t.getMessage()).append(" | ");
            }
            return all.toString();
        }
    }

    private static final class Outcome extends ChannelInboundHandlerAdapter {
        SslHandshakeCompletionEvent event;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent tls && event == null) {
                event = tls;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // the handshake failure arrives as the completion event too
        }
    }
}
