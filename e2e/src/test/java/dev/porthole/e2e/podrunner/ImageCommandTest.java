package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ImageCommandTest {

    @Test
    @DisplayName("a container's args replace the image's default args, as in Kubernetes")
    void argsReplaceDefaults() {
        // given
        ImageCommand command = ImageCommand.of("/usr/bin/redis-server").withDefaultArgs("--port", "6379");

        // when / then
        assertThat(command.commandLine(List.of())).containsExactly("/usr/bin/redis-server", "--port", "6379");
        assertThat(command.commandLine(List.of("--port", "7000"))).containsExactly("/usr/bin/redis-server", "--port", "7000");
    }

    @Test
    @DisplayName("a Java image runs this JVM's java with its options and the absolute jar path")
    void javaJar() {
        // when
        List<String> line = ImageCommand.javaJar(Path.of("agent.jar"), "-Xmx48m").commandLine(null);

        // then
        assertThat(line).hasSize(4);
        assertThat(line.get(0)).endsWith("/bin/java").startsWith("/");
        assertThat(line.subList(1, 3)).containsExactly("-Xmx48m", "-jar");
        assertThat(line.get(3)).startsWith("/").endsWith("/agent.jar");
    }
}
