package dev.porthole.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EphemeralContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AgentCapacityTest {

    @Test
    @DisplayName("agents count from injection until their status says terminated; other ephemeral containers never count")
    void liveAgents() {
        Pod pod = new PodBuilder().withNewMetadata().withName("db-0").endMetadata().withNewSpec()
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName("porthole-agent-aaaa1111").build())
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName("porthole-agent-bbbb2222").build())
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName("porthole-agent-cccc3333").build())
                .addToEphemeralContainers(new EphemeralContainerBuilder().withName("debugger-xyz").build())
                .endSpec().withNewStatus()
                .addToEphemeralContainerStatuses(new ContainerStatusBuilder().withName("porthole-agent-aaaa1111")
                        .withNewState().withNewRunning().endRunning().endState().build())
                .addToEphemeralContainerStatuses(new ContainerStatusBuilder().withName("porthole-agent-bbbb2222")
                        .withNewState().withNewTerminated().withExitCode(0).endTerminated().endState().build())
                .endStatus().build();

        // a: running, b: exited at its deadline, c: injected but not started yet, debugger: not ours
        assertThat(AgentCapacity.liveAgents(pod)).isEqualTo(2);
        assertThat(AgentCapacity.liveAgents(new PodBuilder().withNewSpec().endSpec().build())).isZero();
    }
}
