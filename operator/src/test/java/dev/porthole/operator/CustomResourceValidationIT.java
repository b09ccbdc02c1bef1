package dev.porthole.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API server itself judges every fixture in {@code src/test/resources/manifests}, applied with the
 * cluster's real kubectl: {@code valid-*} must be accepted; {@code invalid-*} must be refused with the
 * message in its {@code # expect:} line; {@code update-*} holds two documents, the first accepted and
 * the second refused as an update.
 */
@LocalCluster
class CustomResourceValidationIT {
    private static final Path FIXTURES = Path.of("src/test/resources/manifests");

    static Stream<Arguments> fixtures() throws IOException {
        try (Stream<Path> files = Files.list(FIXTURES)) {
            return files.map(p -> p.getFileName().toString()).sorted().map(Arguments::of).toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    @DisplayName("the API server's schema and CEL rules judge each manifest as a user would see it")
    void fixtureIsJudgedByTheApiServer(String file, TestNamespace ns) throws IOException {
        // given
        String text = Files.readString(FIXTURES.resolve(file));
        String[] documents = text.split("(?m)^---$");
        String expected = text.lines().filter(l -> l.startsWith("# expect: ")).map(l -> l.substring(10)).findFirst().orElse(null);
        TestCluster cluster = ns.cluster();

        // when
        for (int i = 0; i < documents.length - 1; i++) {
            TestCluster.KubectlResult first = apply(cluster, ns, documents[i]);
            assertThat(first.succeeded()).as("first document of %s: %s", file, first.stderr()).isTrue();
        }
        TestCluster.KubectlResult result = apply(cluster, ns, documents[documents.length - 1]);

        // then
        if (file.startsWith("valid-")) {
            assertThat(result.succeeded()).as(result.stderr()).isTrue();
        } else {
            assertThat(result.succeeded()).as("%s must be refused", file).isFalse();
            assertThat(result.stderr()).contains(expected);
        }
    }

    private static TestCluster.KubectlResult apply(TestCluster cluster, TestNamespace ns, String document) throws IOException {
        Path tmp = Files.createTempFile(cluster.workDir(), "manifest", ".yaml");
        try {
            Files.writeString(tmp, document);
            return cluster.kubectl(Identity.ADMIN, "apply", "--server-side", "-n", ns.name(), "-f", tmp.toString());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
