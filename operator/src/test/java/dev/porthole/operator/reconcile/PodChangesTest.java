package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PodChangesTest {
    private static final Pod RUNNING = new PodBuilder()
            .withNewMetadata().withName("db-0").withNamespace("shop").addToLabels("app", "db").withResourceVersion("1")
            .endMetadata()
            .withNewSpec().addNewContainer().withName("postgres").withImage("postgres:16").endContainer().endSpec()
            .withNewStatus().withPhase("Running").endStatus()
            .build();

    @Test
    @DisplayName("an update that only adds an ephemeral container is the echo of an injection and does not matter")
    void injectionEchoIsSkipped() {
        Pod injected = new PodBuilder(RUNNING).editMetadata().withResourceVersion("2").endMetadata()
                .editSpec().addNewEphemeralContainer().withName("porthole-agent-7f1a34e1").withImage("agent")
                .endEphemeralContainer().endSpec().build();

        assertThat(PodChanges.matter(injected, RUNNING)).isFalse();
    }

    @Test
    @DisplayName("the agent's start in the status, a label, a deletion or another spec change all matter")
    void everythingElseMatters() {
        Pod started = new PodBuilder(RUNNING).editStatus().addToEphemeralContainerStatuses(new ContainerStatusBuilder()
                .withName("porthole-agent-7f1a34e1").withNewState().withNewRunning().endRunning().endState().build())
                .endStatus().build();
        Pod relabelled = new PodBuilder(RUNNING).editMetadata().addToLabels("app", "cache").endMetadata().build();
        Pod deleting = new PodBuilder(RUNNING).editMetadata().withDeletionTimestamp("2026-12-02T05:00:00Z").endMetadata()
                .build();
        Pod newImage = new PodBuilder(RUNNING).editSpec().editFirstContainer().withImage("postgres:17").endContainer()
                .endSpec().build();

        assertThat(PodChanges.matter(started, RUNNING)).isTrue();
        assertThat(PodChanges.matter(relabelled, RUNNING)).isTrue();
        assertThat(PodChanges.matter(deleting, RUNNING)).isTrue();
        assertThat(PodChanges.matter(newImage, RUNNING)).isTrue();
        assertThat(PodChanges.matter(RUNNING, null)).isTrue();
    }
}
