package dev.porthole.helmtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.helmtest.support.Chart;
import dev.porthole.operator.reconcile.AgentInjector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What can be checked of the images and the plugin without a container runtime. */
class PackagingIT {
    private static final Pattern USER = Pattern.compile("(?m)^USER\\s+(\\d+)(?::(\\d+))?\\s*$");
    private static final Pattern ENTRYPOINT = Pattern.compile("(?m)^ENTRYPOINT\\s+\\[(.*)]\\s*$");
    private static final Pattern COPY = Pattern.compile("(?m)^COPY\\s+(\\S+)\\s+(\\S+)\\s*$");

    @Test
    @DisplayName("the agent image runs as AgentInjector.AGENT_UID (65532) and its entrypoint runs the agent jar, whose Main-Class is AgentMain")
    void agentImage() throws IOException {
        // given
        String dockerfile = Files.readString(Chart.ROOT.resolve("packaging/agent/Dockerfile"));

        // when
        Matcher user = matcher(USER, dockerfile);
        List<String> entrypoint = entrypoint(dockerfile);
        Matcher copy = matcher(COPY, dockerfile);

        // then
        assertThat(Long.parseLong(user.group(1))).isEqualTo(AgentInjector.AGENT_UID);
        assertThat(Long.parseLong(user.group(2))).isEqualTo(AgentInjector.AGENT_UID);
        assertThat(entrypoint).containsSubsequence("-jar", copy.group(2)).contains("-XX:+UseSerialGC", "-XX:-UsePerfData");
        assertThat(mainClass(Chart.ROOT.resolve(copy.group(1)))).isEqualTo("dev.porthole.sidecar.AgentMain");
    }

    @Test
    @DisplayName("the operator image runs the operator jar, whose Main-Class is OperatorMain, as a non-root user")
    void operatorImage() throws IOException {
        // given
        String dockerfile = Files.readString(Chart.ROOT.resolve("packaging/operator/Dockerfile"));

        // when
        Matcher user = matcher(USER, dockerfile);
        List<String> entrypoint = entrypoint(dockerfile);
        Matcher copy = matcher(COPY, dockerfile);

        // then
        assertThat(Long.parseLong(user.group(1))).isNotZero();
        assertThat(entrypoint).containsSubsequence("-jar", copy.group(2));
        assertThat(mainClass(Chart.ROOT.resolve(copy.group(1)))).isEqualTo("dev.porthole.operator.OperatorMain");
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

    private static Matcher matcher(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        assertThat(m.find()).as("%s in %n%s", pattern, text).isTrue();
        return m;
    }

    private static List<String> entrypoint(String dockerfile) {
        return Pattern.compile("\"([^\"]*)\"").matcher(matcher(ENTRYPOINT, dockerfile).group(1)).results()
                .map(r -> r.group(1)).toList();
    }

    private static String mainClass(Path jar) throws IOException {
        assertThat(jar).as("built by mvn package").isRegularFile();
        try (JarFile j = new JarFile(jar.toFile())) {
            return j.getManifest().getMainAttributes().getValue("Main-Class");
        }
    }
}
