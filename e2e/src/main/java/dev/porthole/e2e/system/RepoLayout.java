package dev.porthole.e2e.system;

import dev.porthole.testcluster.Checkout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Where the built artifacts are in a Porthole checkout: the same jars a cluster would run. */
public final class RepoLayout {
    private RepoLayout() {
    }

    public static Path root() {
        return Checkout.root();
    }

    public static Path agentJar(Path root) {
        return require(root.resolve("tunnel-sidecar/target/porthole-agent.jar"));
    }

    public static Path cliJar(Path root) {
        return require(root.resolve("cli/target/porthole.jar"));
    }

    /** How to launch the operator: its runnable jar when built, else its main class on the recorded classpath. */
    public static List<String> operatorLaunch(Path root) {
        Path jar = root.resolve("operator/target/porthole-operator.jar");
        if (Files.exists(jar)) {
            return List.of("-jar", jar.toString());
        }
        Path classpath = require(root.resolve("e2e/target/operator-classpath.txt"));
        try {
            return List.of("-cp", Files.readString(classpath).trim(), "dev.porthole.operator.OperatorMain");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Path require(Path p) {
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is missing: build first (mvn -B install -DskipTests)");
        }
        return p;
    }
}
