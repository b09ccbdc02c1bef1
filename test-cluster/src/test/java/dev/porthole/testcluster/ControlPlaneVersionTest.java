package dev.porthole.testcluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ControlPlaneVersionTest {

    @Test
    @DisplayName("the Java side looks for the Kubernetes release that go.mod pins")
    void javaAndGoAgreeOnTheVersion() throws Exception {
        // given
        String goMod = Files.readString(Path.of("go", "go.mod"));

        // then
        assertThat(goMod).containsPattern("(?m)^\\s*k8s\\.io/kubernetes v" + ControlPlaneBinaries.pinnedVersion().replace(".", "\\.") + "$");
    }
}
