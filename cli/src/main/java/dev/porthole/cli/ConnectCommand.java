package dev.porthole.cli;

import dev.porthole.protocol.EndReason;
import dev.porthole.protocol.pki.Pem;
import java.io.PrintWriter;
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

    /** Exit codes: 0 closed by the user, 1 error, 3 forward expired, 4 forward revoked, 5 relay lost. */
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_EXPIRED = 3;
    public static final int EXIT_REVOKED = 4;
    public static final int EXIT_RELAY_LOST = 5;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAMESPACE/NAME", description = "the PortForward to connect to")
    String forward;

    @Option(names = "--local-port", required = true, description = "local port to listen on (0 picks one)")
    int localPort;

    @Option(names = "--address", defaultValue = "127.0.0.1",
            description = "local address to bind (default ${DEFAULT-VALUE}); non-loopback only if the forward's scope allows")
    String address;

    @Option(names = "--relay", required = true, description = "host:port of the relay's client listener")
    String relay;

    @Option(names = "--ca", required = true, description = "PEM file of the CA that signs the relay's certificate")
    Path ca;

    @Option(names = "--cert", required = true, description = "PEM file of your client certificate for this forward")
    Path cert;

    @Option(names = "--key", required = true, description = "PEM file of your client key")
    Path key;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Forwarder forwarder;
        try {
            forwarder = new Forwarder(config(), line -> {
                err.println("porthole: " + line);
                err.flush();
            }).start();
        } catch (ForwarderException e) {
            err.println("porthole: " + e.getMessage());
            err.flush();
            return EXIT_ERROR;
        }
        out.printf("Forwarding %s:%d -> %s via relay %s until %s (bind scope %s)%n",
                forwarder.localAddress().getAddress().getHostAddress(), forwarder.localAddress().getPort(), forward,
                relay, forwarder.expiresAt(), forwarder.scope());
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
            case AGENT_LOST, RELAY_SHUTDOWN -> EXIT_RELAY_LOST;
            default -> EXIT_ERROR;
        };
    }

    private ForwarderConfig config() {
        String[] hostPort = hostPort(relay);
        InetAddress bind;
        try {
            bind = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new ForwarderException("unknown address " + address);
        }
        return ForwarderConfig.of(forward, bind, localPort, hostPort[0], Integer.parseInt(hostPort[1]),
                Pem.readCertificate(Pem.readFile(ca)), new PemFileCertificateSource(cert, key));
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
