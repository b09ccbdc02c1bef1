package dev.porthole.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CRDs users install are the ones generated from the Java types. Run with
 * {@code -Dporthole.crds.update=true} to rewrite the committed copies after changing the types.
 */
class CommittedCrdsTest {

    private static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
    private static final Path COMMITTED = Path.of("manifests");

    @ParameterizedTest
    @ValueSource(strings = {"portforwards.porthole.dev-v1.yml", "portforwardpolicies.porthole.dev-v1.yml"})
    @DisplayName("the committed CRD YAML equals what the generator produces from the Java types")
    void committedCrdMatchesGenerated(String file) throws IOException {
        // given
        String generated = Files.readString(GENERATED.resolve(file));
        Path committed = COMMITTED.resolve(file);
        if (Boolean.getBoolean("porthole.crds.update")) {
            Files.writeString(committed, generated);
        }

        // then
        assertThat(Files.readString(committed))
                .as("%s is stale: run 'mvn -pl crds test -Dporthole.crds.update=true' and commit it", committed)
                .isEqualTo(generated);
    }

    @org.junit.jupiter.api.Test
    @DisplayName("no CRD is committed that the generator no longer produces")
    void noStaleCrdFiles() throws IOException {
        try (Stream<Path> committed = Files.list(COMMITTED)) {
            assertThat(committed.map(p -> p.getFileName().toString()))
                    .allSatisfy(name -> assertThat(GENERATED.resolve(name)).exists());
        }
    }
}
