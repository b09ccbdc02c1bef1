package dev.porthole.cli;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.Pem;
import dev.porthole.protocol.RelayAddress;
import java.util.ArrayList;
import java.util.List;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code porthole connect NAMESPACE/NAME --local-port N ...}: runs a {@link Forwarder} until the forward ends. */
@Command(name = "connect", mixinStandardHelpOptions = true,
        description = "Listen on a local port and carry its connections to a forward's target through the relay.")
public final class ConnectCommand implements Callable<Integer> {

    /**
     * Exit codes: 0 closed by the user, 1 error, 3 forward expired, 4 forward revoked, 6 forward rejected. 5 (relay lost)
     * stays reserved for an end the forwarder cannot recover from; a relay that goes away is reconnected to instead.
     */
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_EXPIRED = 3;
    public static final int EXIT_REVOKED = 4;
    public static final int EXIT_RELAY_LOST = 5;
    public static final int EXIT_REJECTED = 6;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAMESPACE/NAME", description = "the PortForward to connect to")
    String forward;

    @Option(names = "--local-port", required = true, description = "local port to listen on (0 picks one)")
    int localPort;

    @Option(names = "--address", defaultValue = "127.0.0.1",
            description = "local address to bind (default ${DEFAULT-VALUE}); non-loopback only if the forward's scope allows")
    String address;

    @Option(names = "--relay", description = "host:port of the relay's client listener, or several separated by commas, tried in turn when one goes away"
            + " (default: from the forward's status)")
    String relay;

    @Option(names = "--ca", description = "PEM file of the CA that signs the relay's certificate (default: from the forward's status)")
    Path ca;

    @Option(names = "--cert", description = "PEM file of a client certificate (default: request one through the Kubernetes CSR API)")
    Path cert;

    @Option(names = "--key", description = "PEM file of the client key that goes with --cert")
    Path key;

    @CommandLine.Mixin
    KubeconfigOptions kube = new KubeconfigOptions();

    @Option(names = "--certificate-timeout", defaultValue = "60s",
            description = "how long to wait for the operator to sign the certificate request (default ${DEFAULT-VALUE})")
    String certificateTimeout;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Forwarder forwarder;
        ForwarderConfig config;
        try {
            config = config(err);
            forwarder = new Forwarder(config, line -> {
                err.println("porthole: " + line);
                err.flush();
            }).start();
        } catch (ForwarderException e) {
            err.println("porthole: " + e.getMessage());
            err.flush();
            return EXIT_ERROR;
        } catch (UncheckedIOException e) {
            // an unreadable --ca, --cert or --key file
            err.println("porthole: " + e.getMessage() + ": " + e.getCause().getMessage());
            err.flush();
            return EXIT_ERROR;
        }
        out.printf("Forwarding %s:%d -> %s via relay %s until %s (bind scope %s)%n",
                forwarder.localAddress().getAddress().getHostAddress(), forwarder.localAddress().getPort(), forward,
                forwarder.relay(), forwarder.expiresAt(), forwarder.scope());
        out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(forwarder::close, "porthole-cli-shutdown"));
        Forwarder.Termination end = forwarder.termination().join();
        err.println("porthole: " + end.message());
        err.flush();
        return exitCode(end.reason());
    }

    static int exitCode(EndReason reason) {
        return switch (reason) {
            case CLIENT_CLOSED -> 0;
            case EXPIRED -> EXIT_EXPIRED;
            case REVOKED -> EXIT_REVOKED;
            case REJECTED -> EXIT_REJECTED;
            case AGENT_LOST, RELAY_SHUTDOWN -> EXIT_RELAY_LOST;
            default -> EXIT_ERROR;
        };
    }

    private ForwarderConfig config(PrintWriter err) {
        ForwardRef forward;
        try {
            forward = ForwardRef.parse(this.forward);
        } catch (IllegalArgumentException e) {
            throw new ForwarderException(e.getMessage());
        }
        InetAddress bind;
        try {
            bind = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new ForwarderException("unknown address " + address);
        }
        if ((cert == null) != (key == null)) {
            throw new ForwarderException("--cert and --key go together");
        }
        if (cert != null && relay != null && ca != null) {
            return ForwarderConfig.of(forward, bind, localPort, relays(relay), Pem.readCertificate(Pem.readFile(ca)),
                    new PemFileCertificateSource(cert, key));
        }
        KubernetesClient client = kube.client();
        ForwardRelayInfo info = ForwardRelayInfo.of(client, forward);
        List<RelayAddress> relays = relay != null ? relays(relay) : List.of(new RelayAddress(info.relayHost(), info.relayPort()));
        CertificateSource certificates = cert != null ? new PemFileCertificateSource(cert, key)
                : new KubernetesCsrCertificateSource(client, info.remaining(), parseSeconds(certificateTimeout), line -> {
                    err.println("porthole: " + line);
                    err.flush();
                });
        return ForwarderConfig.of(forward, bind, localPort, relays,
                ca != null ? Pem.readCertificate(Pem.readFile(ca)) : info.ca(), certificates);
    }

    private static java.time.Duration parseSeconds(String text) {
        String digits = text.endsWith("s") ? text.substring(0, text.length() - 1) : text;
        try {
            return java.time.Duration.ofSeconds(Long.parseLong(digits));
        } catch (NumberFormatException e) {
            throw new ForwarderException("--certificate-timeout must be seconds such as 60s, got " + text);
        }
    }

    private static int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ForwarderException("--relay port must be a number from 1 to 65535, got " + text);
    }

    /** {@code --relay}: one host:port or several, separated by commas. */
    private static List<RelayAddress> relays(String text) {
        List<RelayAddress> relays = new ArrayList<>();
        for (String entry : text.split(",")) {
            String[] hostPort = hostPort(entry.strip());
            relays.add(new RelayAddress(hostPort[0], port(hostPort[1])));
        }
        return relays;
    }

    private static String[] hostPort(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new ForwarderException("--relay must be host:port, got " + address);
        }
        return new String[] {address.substring(0, colon).replace("[", "").replace("]", ""),
                address.substring(colon + 1)};
    }
}
