package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.pki.PemKeys;
import dev.porthole.protocol.pki.AgentIdentity;
import dev.porthole.protocol.pki.ClientIdentity;
import dev.porthole.protocol.pki.KeyMaterial;
import dev.porthole.protocol.pki.Pem;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

/**
 * Standalone relay ({@code porthole-relay.jar}).
 *
 * <pre>
 * java -jar porthole-relay.jar run relay.properties
 * java -jar porthole-relay.jar demo-pki DIR --forward NS/NAME --user USER [--group G] [--ttl 1h] [--san localhost,127.0.0.1]
 * </pre>
 *
 * {@code demo-pki} writes a CA, a relay certificate, a client certificate, an agent token, an agent certificate
 * ({@code agent.pem}, {@code agent-key.pem}) and a {@code relay.properties} that serves the forward, for trying
 * Porthole by hand.
 */
public final class RelayMain {

    private RelayMain() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "porthole-relay-logback.xml");
        }
        if (args.length >= 2 && args[0].equals("run")) {
            run(Path.of(args[1]));
        } else if (args.length >= 2 && args[0].equals("demo-pki")) {
            demoPki(Path.of(args[1]), List.of(args).subList(2, args.length));
        } else {
            System.err.println("usage: porthole-relay run CONFIG | demo-pki DIR --forward NS/NAME --user USER "
                    + "[--group G] [--ttl 1h] [--san localhost,127.0.0.1] [--scope Loopback]");
            System.exit(2);
        }
    }

    static RelayServer fromConfig(Path configFile) throws IOException {
        return fromConfig(configFile, load(configFile));
    }

    private static Properties load(Path configFile) throws IOException {
        Properties p = new Properties();
        try (Reader reader = Files.newBufferedReader(configFile)) {
            p.load(reader);
        }
        return p;
    }

    private static RelayServer fromConfig(Path configFile, Properties p) throws IOException {
        Path dir = configFile.toAbsolutePath().getParent();
        StaticForwards forwards = StaticForwards.fromProperties(p, Clock.systemUTC());
        return RelayServer.builder()
                .bindAddress(p.getProperty("bind.address", "127.0.0.1"))
                .agentPort(Integer.parseInt(p.getProperty("agent.port", "7443")))
                .clientPort(Integer.parseInt(p.getProperty("client.port", "7444")))
                .serverKey(PemKeys.fromFiles(dir.resolve(p.getProperty("tls.cert", "relay.pem")),
                        dir.resolve(p.getProperty("tls.key", "relay-key.pem"))))
                .clientCa(Pem.readCertificate(Pem.readFile(dir.resolve(p.getProperty("client.ca", "ca.pem")))))
                .agentAuthenticator(forwards)
                .sessionAuthorizer(forwards)
                .workerThreads(Integer.parseInt(p.getProperty("worker.threads",
                        String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())))))
                .build();
    }

    private static void run(Path configFile) throws Exception {
        Properties p = load(configFile);
        java.time.Duration drain = java.time.Duration.ofSeconds(Long.parseLong(p.getProperty("drain.seconds", "20")));
        RelayServer relay = fromConfig(configFile, p).start();
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM: accept nothing new, let live sessions finish for up to drain.seconds, then stop
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            relay.drain(drain).join();
            stopped.countDown();
        }, "porthole-relay-shutdown"));
        System.out.println("relay agent-listener=" + relay.agentAddress() + " client-listener=" + relay.clientAddress());
        stopped.await();
    }

    private static void demoPki(Path dir, List<String> options) throws IOException {
        String forwardOption = option(options, "--forward", null);
        String user = option(options, "--user", null);
        if (forwardOption == null || user == null) {
            throw new IllegalArgumentException("demo-pki needs --forward NS/NAME and --user USER");
        }
        ForwardRef forward = ForwardRef.parse(forwardOption);
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < options.size() - 1; i++) {
            if (options.get(i).equals("--group")) {
                groups.add(options.get(i + 1));
            }
        }
        Duration ttl = Duration.parse("PT" + option(options, "--ttl", "1h").toUpperCase());
        List<String> sans = List.of(option(options, "--san", "localhost,127.0.0.1").split(","));
        Instant expiresAt = Instant.now().plus(ttl).truncatedTo(ChronoUnit.SECONDS);
        // a fresh uid per run, as Kubernetes gives a re-created forward: certificates of earlier runs stop working
        String uid = UUID.randomUUID().toString();
        Files.createDirectories(dir);
        CertificateAuthority ca = CertificateAuthority.create("porthole-demo-ca", Duration.ofDays(30));
        KeyMaterial relayKey = ca.issueServerCertificate("porthole-relay", sans, Duration.ofDays(30));
        KeyPair clientKeys = CertificateAuthority.generateKeyPair();
        X509Certificate client = ca.issueClientCertificate(clientKeys.getPublic(),
                new ClientIdentity(user, groups, forward, uid, expiresAt));
        // the agent's certificate names the same forward uid as the client's, and lasts as long as the forward
        KeyMaterial agentKey = ca.issueAgentCertificate(new AgentIdentity(forward, uid, expiresAt));
        byte[] tokenBytes = new byte[24];
        new SecureRandom().nextBytes(tokenBytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(tokenBytes);
        write(dir.resolve("ca.pem"), ca.keyMaterial().certificateChainPem());
        write(dir.resolve("ca-key.pem"), ca.keyMaterial().privateKeyPem());
        write(dir.resolve("relay.pem"), relayKey.certificateChainPem());
        write(dir.resolve("relay-key.pem"), relayKey.privateKeyPem());
        write(dir.resolve("client.pem"), Pem.write(client));
        write(dir.resolve("client-key.pem"), Pem.write(clientKeys.getPrivate()));
        write(dir.resolve("agent-token"), token + "\n");
        write(dir.resolve("agent.pem"), agentKey.certificateChainPem());
        write(dir.resolve("agent-key.pem"), agentKey.privateKeyPem());
        write(dir.resolve("relay.properties"), String.join("\n",
                "bind.address=127.0.0.1", "agent.port=7443", "client.port=7444",
                "tls.cert=relay.pem", "tls.key=relay-key.pem", "client.ca=ca.pem",
                "forward." + forward + ".token=" + token,
                "forward." + forward + ".uid=" + uid,
                "forward." + forward + ".users=" + user,
                "forward." + forward + ".groups=" + String.join(",", groups),
                "forward." + forward + ".scope=" + option(options, "--scope", "Loopback"),
                "forward." + forward + ".expires-at=" + expiresAt, ""));
        System.out.println("wrote CA, relay, client and agent certificates, agent token and relay.properties to " + dir
                + " (forward " + forward + " for " + user + " until " + expiresAt + ")");
    }

    private static String option(List<String> options, String name, String fallback) {
        int i = options.indexOf(name);
        return i >= 0 && i + 1 < options.size() ? options.get(i + 1) : fallback;
    }

    private static void write(Path path, String content) throws IOException {
        Files.writeString(path, content);
        if (path.getFileName().toString().contains("key") || path.getFileName().toString().contains("token")) {
            try {
                Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
    }
}
