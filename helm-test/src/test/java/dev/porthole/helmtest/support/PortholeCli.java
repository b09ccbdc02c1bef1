package dev.porthole.helmtest.support;

import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.ManagedProcess;
import dev.porthole.testcluster.TestCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code porthole connect} as a user runs it: the CLI's shaded jar (built by the cli module, which comes before this
 * one) in its own JVM, with the user's kubeconfig context, from outside the cluster.
 */
public final class PortholeCli {
    private static final Path JAR = Chart.ROOT.resolve("cli/target/porthole.jar");

    private PortholeCli() {
    }

    /**
     * Starts {@code porthole connect FORWARD --local-port PORT --relay RELAY} as {@code user} and waits until it
     * forwards; fails with its output if it exits first. The caller closes it (or waits for it to exit).
     */
    public static ManagedProcess connect(TestCluster cluster, Identity user, String forward, int localPort, String relay,
                                         Path logDir) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: build the cli module first");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ManagedProcess cli = ManagedProcess.start("connect-" + user.contextName(), List.of(java, "-Xmx128m",
                "-XX:+UseSerialGC", "-jar", JAR.toString(), "connect", forward, "--local-port", Integer.toString(localPort),
                "--relay", relay, "--kubeconfig", cluster.kubeconfig().toString(), "--context", user.contextName()),
                Map.of(), logDir);
        try {
            cli.awaitOutput(out -> out.contains("Forwarding 127.0.0.1:" + localPort), Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            cli.close();
            throw e;
        }
        return cli;
    }
}
