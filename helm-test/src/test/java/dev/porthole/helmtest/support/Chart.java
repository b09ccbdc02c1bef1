package dev.porthole.helmtest.support;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The chart in {@code helm/porthole} and the repository around it, rendered with helm-java. */
public final class Chart {
    public static final Path ROOT = Path.of(System.getProperty("porthole.root", "..")).toAbsolutePath().normalize();
    public static final Path DIR = ROOT.resolve("helm/porthole");
    /** Values files of the tests. */
    public static final Path VALUES = Path.of("src/test/resources/values").toAbsolutePath();
    /** The version of the local control plane (test-cluster), which a template run cannot ask. */
    public static final String KUBE_VERSION = "v1.34.4";
    private static final KubernetesClient OFFLINE = new KubernetesClientBuilder().withConfig(Config.empty()).build();

    private Chart() {
    }

    public static Helm helm() {
        if (!Files.isRegularFile(DIR.resolve("Chart.yaml"))) {
            throw new IllegalStateException("no chart at " + DIR);
        }
        return new Helm(DIR);
    }

    /** {@code helm template RELEASE helm/porthole -n NAMESPACE [-f values]} as objects, CRDs excluded. */
    public static Rendered template(String release, String namespace, String valuesFile) {
        TemplateCommand cmd = helm().template().withName(release).withNamespace(namespace).withKubeVersion(KUBE_VERSION).skipCrds();
        if (valuesFile != null) {
            cmd = cmd.withValuesFile(VALUES.resolve(valuesFile));
        }
        return new Rendered(parse(cmd.call()));
    }

    public static List<HasMetadata> parse(String yaml) {
        return OFFLINE.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    }

    /** What a template run produced. */
    public record Rendered(List<HasMetadata> objects) {
        public <T extends HasMetadata> T one(Class<T> type, String name) {
            return find(type, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name
                    + " rendered; got " + objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList()));
        }

        public <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
            return objects.stream().filter(type::isInstance).map(type::cast)
                    .filter(o -> name.equals(o.getMetadata().getName())).findFirst();
        }

        public <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        public List<String> kinds() {
            return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
        }
    }
}
