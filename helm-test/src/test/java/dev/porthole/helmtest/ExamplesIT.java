package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.marcnuri.helm.TemplateCommand;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.cli.PortholeCli;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every file in examples/ is accepted as it stands: manifests by the real API server, values files by the chart. */
@LocalCluster
class ExamplesIT {
    private static final Path EXAMPLES = Chart.ROOT.resolve("examples");

    @Test
    @DisplayName("every example manifest passes the API server's validation and admission (server-side dry run), as its user would apply it")
    void manifestsAccepted(TestCluster cluster) throws IOException {
        // given: the namespaces the examples name
        for (String ns : List.of("shop", "staging", "ci")) {
            if (cluster.admin().namespaces().withName(ns).get() == null) {
                cluster.admin().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            }
        }

        // when / then: each document on its own, as its user applies it (porthole create takes PortForwards only)
        List<Path> manifests = files().filter(p -> !p.getFileName().toString().startsWith("helm-values-")).toList();
        assertThat(manifests).hasSizeGreaterThanOrEqualTo(6);
        for (Path file : manifests) {
            for (String text : Files.readString(file).split("(?m)^---\\s*$")) {
                if (text.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                    continue;
                }
                Path manifest = Files.writeString(Files.createTempFile(cluster.workDir(), "example", ".yaml"), text);
                judge(cluster, file.getFileName() + " " + manifest.getFileName(), manifest, text);
            }
        }
    }

    private static void judge(TestCluster cluster, String what, Path manifest, String text) {
        if (!text.contains("kind: PortForward\n")) {
            TestCluster.KubectlResult result = cluster.kubectl(Identity.ADMIN, "apply", "--dry-run=server", "-f", manifest.toString());
            assertThat(result.succeeded()).as(what + ": " + result.stderr()).isTrue();
        } else if (text.contains("requestedBy:")) {
            assertAcceptedFromItsCreator(cluster, manifest, text);
        } else {
            // what a user runs: porthole create records them as the creator
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = PortholeCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                    .execute("create", "--dry-run", "-f", manifest.toString(), "--kubeconfig", cluster.kubeconfig().toString(),
                            "--context", Identity.ADMIN.contextName());
            assertThat(exit).as(what + ": " + err).isZero();
            assertThat(out.toString()).contains("would be created").contains("requested by " + Identity.ADMIN.username());
        }
    }

    /** A GitOps example names its sync identity as creator: that service account, with the rights it needs, may apply it. */
    private static void assertAcceptedFromItsCreator(TestCluster cluster, Path manifest, String text) {
        PortForward pf = Serialization.unmarshal(text, PortForward.class);
        String user = pf.getSpec().getRequestedBy().getUser();
        String[] sa = user.split(":");
        assertThat(sa).as("%s: requestedBy of an example must be a service account", manifest.getFileName()).hasSize(4);
        String ns = pf.getMetadata().getNamespace();
        KubernetesClient admin = cluster.admin();
        admin.resource(new RoleBuilder().withNewMetadata().withName("gitops-sync").withNamespace(ns).endMetadata()
                .addNewRule().withApiGroups("porthole.dev").withResources("portforwards").withVerbs("create").endRule()
                .addNewRule().withApiGroups("").withResources("pods/portforward").withVerbs("create").endRule()
                .build()).serverSideApply();
        admin.resource(new RoleBindingBuilder().withNewMetadata().withName("gitops-sync").withNamespace(ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "gitops-sync")
                .addNewSubject().withKind("ServiceAccount").withNamespace(sa[2]).withName(sa[3]).endSubject()
                .build()).serverSideApply();
        if (admin.namespaces().withName(sa[2]).get() == null) {
            admin.resource(new NamespaceBuilder().withNewMetadata().withName(sa[2]).endMetadata().build()).create();
        }
        KubernetesClient sync = cluster.clientWithToken(cluster.serviceAccountToken(sa[2], sa[3], Duration.ofMinutes(10)));
        assertThatCode(() -> sync.resource(pf).dryRun().create()).as(manifest.getFileName().toString()).doesNotThrowAnyException();
    }

    @Test
    @DisplayName("every example values file is accepted by the chart's schema and renders")
    void valuesAccepted() throws IOException {
        // given
        List<Path> values = files().filter(p -> p.getFileName().toString().startsWith("helm-values-")).toList();
        assertThat(values).isNotEmpty();

        // when / then
        for (Path file : values) {
            TemplateCommand template = Chart.helm().template().withName("porthole").withNamespace("porthole-system")
                    .withKubeVersion(Chart.KUBE_VERSION).withValuesFile(file);
            assertThat(Chart.parse(template.call())).as(file.getFileName().toString()).isNotEmpty();
        }
    }

    private static Stream<Path> files() throws IOException {
        try (Stream<Path> list = Files.list(EXAMPLES)) {
            return list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }
}
