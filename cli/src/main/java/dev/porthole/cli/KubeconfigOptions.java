package dev.porthole.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --kubeconfig} and {@code --context}, shared by every command that talks to the API server as the user. */
final class KubeconfigOptions {

    @Option(names = "--kubeconfig", description = "kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)")
    Path kubeconfig;

    @Option(names = "--context", description = "kubeconfig context to use")
    String context;

    /** A client exactly as kubectl with these options would authenticate. */
    KubernetesClient client() {
        return KubeconfigClients.create(kubeconfig, context);
    }
}
