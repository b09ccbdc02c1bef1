package dev.porthole.protocol.tls;

import dev.porthole.protocol.pki.KeyMaterial;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS 1.3 contexts for every Porthole endpoint. Clients trust exactly one pinned CA (never the system
 * trust store) and verify the relay's host name. The provider is OpenSSL (netty-tcnative BoringSSL)
 * when it is on the class path, else the JDK; {@code -Dporthole.tls.provider=jdk|openssl} overrides.
 */
public final class TlsContexts {

    private static final String TLS13 = "TLSv1.3";

    private TlsContexts() {
    }

    /** Server side, no client certificates (the relay's agent listener). */
    public static SslContext server(KeyMaterial serverKey) {
        return build(serverBuilder(serverKey));
    }

    /** Server side requiring a client certificate issued by {@code clientCa} (the relay's client listener). */
    public static SslContext serverRequiringClientCertificate(KeyMaterial serverKey, X509Certificate clientCa) {
        return build(serverBuilder(serverKey).clientAuth(ClientAuth.REQUIRE)
                .trustManager(new CaPinningTrustManager(clientCa)));
    }

    /** Client side trusting only {@code ca} (the agent). */
    public static SslContext client(X509Certificate ca) {
        return build(clientBuilder(ca));
    }

    /** Client side trusting only {@code ca} and presenting {@code clientKey} (the CLI). */
    public static SslContext client(X509Certificate ca, KeyMaterial clientKey) {
        return build(clientBuilder(ca).keyManager(clientKey.privateKey(),
                clientKey.chain().toArray(X509Certificate[]::new)));
    }

    /**
     * The agent's end of a session's end-to-end handshake: presents the agent certificate and requires a client
     * certificate that {@code clients} accepts ({@link ForwardPeerTrust#clientsOf}).
     */
    public static SslContext sessionServer(KeyMaterial agentKey, X509TrustManager clients) {
        return build(serverBuilder(agentKey).clientAuth(ClientAuth.REQUIRE).trustManager(clients));
    }

    /**
     * The client's end of a session's end-to-end handshake: presents the client certificate and accepts only the
     * agent certificate {@code agent} accepts ({@link ForwardPeerTrust#agentOf}); there is no host name to verify,
     * the forward in the certificate is what is verified.
     */
    public static SslContext sessionClient(KeyMaterial clientKey, X509TrustManager agent) {
        // no host name: Netty 4.2 verifies one by default, which would refuse every agent
        return build(SslContextBuilder.forClient().trustManager(agent).endpointIdentificationAlgorithm(null)
                .keyManager(clientKey.privateKey(), clientKey.chain().toArray(X509Certificate[]::new)));
    }

    /** The provider in use: OPENSSL when available unless overridden. */
    public static SslProvider provider() {
        String wanted = System.getProperty("porthole.tls.provider", "auto").toLowerCase(Locale.ROOT);
        return switch (wanted) {
            case "jdk" -> SslProvider.JDK;
            case "openssl" -> SslProvider.OPENSSL;
            default -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    private static SslContextBuilder serverBuilder(KeyMaterial serverKey) {
        return SslContextBuilder.forServer(serverKey.privateKey(), serverKey.chain().toArray(X509Certificate[]::new));
    }

    private static SslContextBuilder clientBuilder(X509Certificate ca) {
        return SslContextBuilder.forClient().trustManager(pinnedTrust(ca)).endpointIdentificationAlgorithm("HTTPS");
    }

    private static TrustManagerFactory pinnedTrust(X509Certificate ca) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("porthole-ca", ca);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build trust store for the pinned CA", e);
        }
    }

    private static SslContext build(SslContextBuilder builder) {
        try {
            return builder.sslProvider(provider()).protocols(TLS13).build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build TLS context: " + e.getMessage(), e);
        }
    }
}
