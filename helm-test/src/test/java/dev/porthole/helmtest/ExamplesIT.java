package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.TemplateCommand;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
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
    @DisplayName("every example manifest passes the API server's validation (server-side dry run)")
    void manifestsAccepted(TestCluster cluster) throws IOException {
        // given: the namespaces the examples name
        for (String ns : List.of("shop", "staging", "ci")) {
            if (cluster.admin().namespaces().withName(ns).get() == null) {
                cluster.admin().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            }
        }

        // when / then
        List<Path> manifests = files().filter(p -> !p.getFileName().toString().startsWith("helm-values-")).toList();
        assertThat(manifests).hasSizeGreaterThanOrEqualTo(6);
        for (Path manifest : manifests) {
            TestCluster.KubectlResult result = cluster.kubectl(Identity.ADMIN, "apply", "--dry-run=server", "-f", manifest.toString());
            assertThat(result.succeeded()).as(manifest.getFileName() + ": " + result.stderr()).isTrue();
        }
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
