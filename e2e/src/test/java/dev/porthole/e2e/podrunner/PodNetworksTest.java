package dev.porthole.e2e.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PodNetworksTest {

    /** Records commands; answers from a function of the joined command line. */
    private static final class FakeCommands implements CommandRunner {
        final List<String> ran = new ArrayList<>();
        Function<String, Result> answer = line -> new Result(0, "", "");

        @Override
        public Result run(List<String> command) {
            String line = String.join(" ", command);
            ran.add(line);
            return answer.apply(line);
        }
    }

    private final FakeCommands commands = new FakeCommands();
    private final PodNetworks networks = new PodNetworks(commands, "ip");

    @Test
    @DisplayName("names a pod's namespace and veth after a hash of its UID, within Linux's 15-character limit")
    void names() {
        // when
        String netns = PodNetworks.netnsName("0b7e0c8e-1d2a-4c55-9a55-3c1b0f0e7a11");
        String veth = PodNetworks.hostVethName("0b7e0c8e-1d2a-4c55-9a55-3c1b0f0e7a11");

        // then
        assertThat(netns).matches("ph-[0-9a-f]{10}");
        assertThat(veth).matches("ph-v[0-9a-f]{10}").hasSizeLessThanOrEqualTo(15);
        assertThat(PodNetworks.netnsName("another-uid")).isNotEqualTo(netns);
    }

    @Test
    @DisplayName("creates the namespace with lo up and a veth into the bridge, with the pod's address and no default route")
    void createsPodNetwork() {
        // when
        PodNetwork network = networks.create("uid-1");

        // then
        String ns = PodNetworks.netnsName("uid-1");
        String veth = PodNetworks.hostVethName("uid-1");
        assertThat(network.netns()).contains(ns);
        assertThat(network.podIp()).isEqualTo("10.244.0.2");
        assertThat(commands.ran).containsExactly(
                "ip netns add " + ns,
                "ip -n " + ns + " link set lo up",
                "ip link add " + veth + " type veth peer name eth0 netns " + ns,
                "ip link set " + veth + " master ph-br0",
                "ip link set " + veth + " up",
                "ip -n " + ns + " addr add 10.244.0.2/16 dev eth0",
                "ip -n " + ns + " link set eth0 up");
        assertThat(commands.ran).noneMatch(c -> c.contains("route"));
    }

    @Test
    @DisplayName("undoes a half-made pod network when a step fails, and the next pod still gets one")
    void undoesOnFailure() {
        // given
        commands.answer = line -> line.contains("type veth") ? new CommandRunner.Result(2, "", "RTNETLINK answers: File exists")
                : new CommandRunner.Result(0, "", "");

        // when / then
        assertThatThrownBy(() -> networks.create("uid-1")).hasMessageContaining("File exists");
        assertThat(commands.ran).contains("ip netns del " + PodNetworks.netnsName("uid-1"));
        commands.answer = line -> new CommandRunner.Result(0, "", "");
        assertThat(networks.create("uid-2").podIp()).isEqualTo("10.244.0.3");
    }

    @Test
    @DisplayName("removes only ph-* namespaces and links left by an earlier run, then creates the bridge")
    void removesLeftovers() {
        // given
        commands.answer = line -> switch (line) {
            case "ip netns list" -> new CommandRunner.Result(0, "ph-aaaaaaaaaa (id: 0)\nother-ns\nph-bbbbbbbbbb\n", "");
            case "ip -o link show" -> new CommandRunner.Result(0,
                    "1: lo: <LOOPBACK,UP> mtu 65536\n5: ph-br0: <BROADCAST> mtu 1500\n6: ph-vaaaaaaaaaa@if2: <BROADCAST>\n7: eth0: <UP>\n", "");
            default -> new CommandRunner.Result(0, "", "");
        };

        // when
        networks.setUp();

        // then
        assertThat(commands.ran).contains("ip netns del ph-aaaaaaaaaa", "ip netns del ph-bbbbbbbbbb",
                "ip link del ph-br0", "ip link del ph-vaaaaaaaaaa");
        assertThat(commands.ran).noneMatch(c -> c.contains("other-ns") || c.equals("ip link del eth0") || c.equals("ip link del lo"));
        assertThat(commands.ran.subList(commands.ran.size() - 3, commands.ran.size())).containsExactly(
                "ip link add ph-br0 type bridge", "ip addr add 10.244.0.1/16 dev ph-br0", "ip link set ph-br0 up");
    }
}
