package dev.porthole.cli;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.api.v1alpha1.RequestedBy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.authentication.SelfSubjectReview;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code porthole create -f FILE}: creates the PortForwards in a manifest with {@code spec.requestedBy} set
 * to who the API server says the user is (a SelfSubjectReview), so nobody types their own name. The value
 * is only a claim: the API server's admission policy compares it with the request and refuses a mismatch.
 */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create the PortForwards in a manifest, recording you as their creator (spec.requestedBy).")
public final class CreateCommand implements Callable<Integer> {
    public static final int EXIT_REFUSED = 2;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, description = "YAML manifest with one or more PortForwards")
    Path file;

    @Option(names = {"-n", "--namespace"}, description = "namespace (default: the manifest's, else the kubeconfig context's)")
    String namespace;

    @CommandLine.Mixin
    KubeconfigOptions kube = new KubeconfigOptions();

    @Option(names = "--dry-run", description = "ask the API server to judge the forwards (admission included) without creating them")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<PortForward> forwards;
        try {
            forwards = read(Files.readString(file));
        } catch (IllegalArgumentException e) {
            err.println("porthole: " + file + ": " + e.getMessage());
            return ConnectCommand.EXIT_ERROR;
        } catch (IOException e) {
            err.println("porthole: cannot read " + file + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
            return ConnectCommand.EXIT_ERROR;
        }
        try (KubernetesClient client = kube.client()) {
            UserInfo me = client.authentication().v1().selfSubjectReviews().create(new SelfSubjectReview())
                    .getStatus().getUserInfo();
            RequestedBy creator = new RequestedBy(me.getUsername(), me.getGroups());
            int refused = 0;
            for (PortForward pf : forwards) {
                String ns = namespace != null ? namespace
                        : pf.getMetadata().getNamespace() != null ? pf.getMetadata().getNamespace() : client.getNamespace();
                pf.getMetadata().setNamespace(ns);
                pf.getSpec().setRequestedBy(creator);
                try {
                    var resource = client.resource(pf);
                    (dryRun ? resource.dryRun() : resource).create();
                    out.println("portforward.porthole.dev/" + pf.getMetadata().getName() + " " + (dryRun ? "would be created" : "created")
                            + " in namespace " + ns + ", requested by " + creator.getUser());
                } catch (KubernetesClientException e) {
                    refused++;
                    err.println("porthole: " + ns + "/" + pf.getMetadata().getName() + " refused: " + apiServerMessage(e));
                }
            }
            out.flush();
            err.flush();
            return refused == 0 ? 0 : EXIT_REFUSED;
        }
    }

    static List<PortForward> read(String yaml) {
        List<PortForward> out = new ArrayList<>();
        for (String document : yaml.split("(?m)^---\\s*$")) {
            if (document.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("#"))) {
                continue;
            }
            PortForward pf;
            try {
                // the kind as written: a typed read would call anything a PortForward
                GenericKubernetesResource raw = Serialization.unmarshal(document, GenericKubernetesResource.class);
                if (!"PortForward".equals(raw.getKind()) || raw.getApiVersion() == null
                        || !raw.getApiVersion().startsWith(PortForward.GROUP + "/")) {
                    throw new IllegalArgumentException("every document must be a PortForward with metadata.name and spec, found "
                            + raw.getKind());
                }
                pf = Serialization.unmarshal(document, PortForward.class);
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a readable manifest: " + e.getMessage(), e);
            }
            if (pf.getMetadata() == null || pf.getMetadata().getName() == null || pf.getSpec() == null) {
                throw new IllegalArgumentException("every document must be a PortForward with metadata.name and spec");
            }
            out.add(pf);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no PortForward in the manifest");
        }
        return out;
    }

    /** The API server's own sentence (for an admission refusal, the policy's message), without the client's wrapping. */
    private static String apiServerMessage(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
    }
}
