package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.porthole.helmtest.support.Chart;
import dev.porthole.helmtest.support.OciArchive;
import dev.porthole.operator.OperatorSettings;
import dev.porthole.operator.reconcile.AgentInjector;
import dev.porthole.sidecar.AgentJvm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the images and the plugin without a container runtime. The images are those of
 * {@code scripts/build-images.sh} (OCI-layout tars listed in {@code $PORTHOLE_CACHE/images/images.txt}); their
 * index, config and layer contents are read from the tars.
 */
class PackagingIT {
    private static final String OPERATOR_IMAGE = "ghcr.io/porthole-dev/porthole-operator:0.1.0";
    private static final String NATIVE_TLS = "libnetty_tcnative_linux_x86_64.so";

    /** The images of this build's jars: scripts/build-images.sh rebuilds what changed (cached otherwise). */
    @BeforeAll
    static void buildImages() {
        dev.porthole.testcluster.NodeImages.build(Chart.ROOT);
    }

    @Test
    @DisplayName("the agent image is the operator's default agent image, runs as AgentInjector.AGENT_UID (65532) with AgentJvm's flags, and its entrypoint runs the agent jar (Main-Class AgentMain) with netty-tcnative on java.library.path")
    void agentImage() throws IOException {
        // given
        OciArchive image = OciArchive.of(OperatorSettings.DEFAULT_AGENT_IMAGE);

        // when
        List<String> entrypoint = image.entrypoint();
        String jar = argumentAfter(entrypoint, "-jar");
        Map<String, OciArchive.LayerEntry> files = files(image, jar);

        // then
        assertNamed(image, OperatorSettings.DEFAULT_AGENT_IMAGE);
        assertThat(image.config().path("config").path("User").asText())
                .isEqualTo(AgentInjector.AGENT_UID + ":" + AgentInjector.AGENT_UID);
        assertThat(entrypoint).containsAll(List.of(AgentJvm.JAVA_TOOL_OPTIONS.split(" "))).contains("-XX:-UsePerfData");
        assertThat(mainClass(files.get(jar.substring(1)))).isEqualTo("dev.porthole.sidecar.AgentMain");
        assertRunsFromItsOwnFiles(entrypoint, files);
    }

    @Test
    @DisplayName("the operator image is the chart's default image, runs as the chart's user, and its entrypoint runs the operator jar (Main-Class OperatorMain) with netty-tcnative on java.library.path")
    void operatorImage() throws IOException {
        // given
        var container = Chart.template("porthole", "porthole-system", null)
                .one(io.fabric8.kubernetes.api.model.apps.Deployment.class, "porthole").getSpec().getTemplate().getSpec()
                .getContainers().get(0);
        OciArchive image = OciArchive.of(container.getImage());

        // when
        List<String> entrypoint = image.entrypoint();
        String jar = argumentAfter(entrypoint, "-jar");
        Map<String, OciArchive.LayerEntry> files = files(image, jar);

        // then
        assertThat(container.getImage()).isEqualTo(OPERATOR_IMAGE);
        assertNamed(image, OPERATOR_IMAGE);
        assertThat(image.config().path("config").path("User").asText()).isEqualTo("65532:65532");
        assertThat(mainClass(files.get(jar.substring(1)))).isEqualTo("dev.porthole.operator.OperatorMain");
        assertRunsFromItsOwnFiles(entrypoint, files);
    }

    @Test
    @DisplayName("the chart's pod security context matches the image's user")
    void chartRunsTheImageUser() {
        // when
        var pod = Chart.template("porthole", "porthole-system", null)
                .one(io.fabric8.kubernetes.api.model.apps.Deployment.class, "porthole").getSpec().getTemplate().getSpec();

        // then
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(65532L);
    }

    @Test
    @DisplayName("the kubectl plugin installs the CLI script next to the jar it runs")
    void kubectlPlugin() throws IOException {
        // given
        Path install = Chart.ROOT.resolve("packaging/kubectl-plugin/install.sh");
        String plugin = Files.readString(Chart.ROOT.resolve("cli/kubectl-porthole"));

        // then
        assertThat(Files.isExecutable(install)).isTrue();
        assertThat(Files.readString(install)).contains("cli/target/porthole.jar", "$dir/porthole.jar", "$dir/kubectl-porthole");
        assertThat(plugin).contains("$here/porthole.jar");
        assertThat(mainClass(Chart.ROOT.resolve("cli/target/porthole.jar"))).isEqualTo("dev.porthole.cli.PortholeCli");
    }

    /** index.json names the manifest for ctr import (full ref) and for OCI tools (the tag). */
    private static void assertNamed(OciArchive image, String ref) {
        JsonNode annotations = image.index().path("manifests").path(0).path("annotations");
        assertThat(image.index().path("manifests")).hasSize(1);
        assertThat(annotations.path("io.containerd.image.name").asText()).isEqualTo(ref);
        assertThat(annotations.path("org.opencontainers.image.ref.name").asText()).isEqualTo(ref.substring(ref.lastIndexOf(':') + 1));
        assertThat(OciArchive.built().get(ref).digest()).isEqualTo(image.manifestDigest());
    }

    /** The java of the entrypoint is in the image, java.library.path holds netty-tcnative, there is no shell. */
    private static void assertRunsFromItsOwnFiles(List<String> entrypoint, Map<String, OciArchive.LayerEntry> files) {
        assertThat(files).as("the entrypoint's program").containsKey(entrypoint.get(0).substring(1));
        String libraryPath = entrypoint.stream().filter(a -> a.startsWith("-Djava.library.path=")).findFirst()
                .orElseThrow(() -> new AssertionError("no -Djava.library.path in " + entrypoint))
                .substring("-Djava.library.path=".length());
        assertThat(files).as("netty-tcnative in java.library.path " + libraryPath)
                .containsKey(libraryPath.substring(1) + "/" + NATIVE_TLS);
        assertThat(files).doesNotContainKeys("bin/sh", "usr/bin/sh", "bin/bash");
    }

    private static String argumentAfter(List<String> args, String flag) {
        int at = args.indexOf(flag);
        assertThat(at).as("%s in %s", flag, args).isNotNegative().isLessThan(args.size() - 1);
        return args.get(at + 1);
    }

    /** The image's files by path (no leading "/"), with the bytes of {@code absolutePath}. */
    private static Map<String, OciArchive.LayerEntry> files(OciArchive image, String absolutePath) {
        Map<String, OciArchive.LayerEntry> files = new HashMap<>();
        for (OciArchive.LayerEntry e : image.layerEntries(absolutePath.substring(1)::equals)) {
            files.put(e.path(), e);
        }
        return files;
    }

    private static String mainClass(OciArchive.LayerEntry jar) throws IOException {
        assertThat(jar).as("the entrypoint's jar in the image").isNotNull();
        try (JarInputStream j = new JarInputStream(new ByteArrayInputStream(jar.data()))) {
            return j.getManifest().getMainAttributes().getValue("Main-Class");
        }
    }

    private static String mainClass(Path jar) throws IOException {
        assertThat(jar).as("built by mvn package").isRegularFile();
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.getManifest().getMainAttributes().getValue("Main-Class");
        }
    }
}
