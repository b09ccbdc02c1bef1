package dev.porthole.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.testcluster.Creators;
import dev.porthole.testcluster.Identity;
import dev.porthole.testcluster.LocalCluster;
import dev.porthole.testcluster.TestCluster;
import dev.porthole.testcluster.TestNamespace;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code porthole create -f} against the real API server and its creator admission policy. */
@LocalCluster
class CreateCommandIT {
    private static final String MANIFEST = """
            # a forward as a user writes it: no creator anywhere
            apiVersion: porthole.dev/v1alpha1
            kind: PortForward
            metadata: { name: orders-db-debug }
            spec:
              target: { pod: orders-db-0, port: 5432 }
              audience: { users: [alice] }
              ttl: 30m
            """;

    @TempDir
    Path dir;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @Test
    @DisplayName("fills in spec.requestedBy from who the API server says the user is, and the policy admits it")
    void recordsTheCreator(TestCluster cluster, TestNamespace ns) throws Exception {
        // given
        grantForwarding(cluster, ns, Identity.BOB, true);
        Path file = Files.writeString(dir.resolve("forward.yaml"), MANIFEST);

        // when
        int exit = run(cluster, Identity.BOB, "create", "-f", file.toString(), "-n", ns.name());

        // then
        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).contains("portforward.porthole.dev/orders-db-debug created in namespace " + ns.name()
                + ", requested by bob");
        PortForward pf = cluster.admin().resources(PortForward.class).inNamespace(ns.name()).withName("orders-db-debug").get();
        assertThat(pf.getSpec().getRequestedBy()).isEqualTo(Creators.of(Identity.BOB));
    }

    @Test
    @DisplayName("a creator without the right to port-forward gets the API server's refusal and exit code 2")
    void refusalIsPrinted(TestCluster cluster, TestNamespace ns) throws Exception {
        // given
        grantForwarding(cluster, ns, Identity.MALLORY, false);
        Path file = Files.writeString(dir.resolve("forward.yaml"), MANIFEST);

        // when
        int exit = run(cluster, Identity.MALLORY, "create", "-f", file.toString(), "-n", ns.name());

        // then
        assertThat(exit).isEqualTo(CreateCommand.EXIT_REFUSED);
        assertThat(err.toString()).contains(ns.name() + "/orders-db-debug refused: ")
                .contains("mallory may not forward to pod orders-db-0 in namespace " + ns.name()
                        + " (needs create on pods/portforward)");
        assertThat(cluster.admin().resources(PortForward.class).inNamespace(ns.name()).list().getItems()).isEmpty();
    }

    @Test
    @DisplayName("a manifest that is not a PortForward, or no file at all, is refused with a clear line before anything is sent")
    void badManifest(TestCluster cluster, TestNamespace ns) throws Exception {
        Path file = Files.writeString(dir.resolve("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: { name: x }\nspec: {}\n");

        int exit = run(cluster, Identity.BOB, "create", "-f", file.toString(), "-n", ns.name());

        assertThat(exit).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(err.toString()).contains("every document must be a PortForward with metadata.name and spec, found Pod");
        assertThat(run(cluster, Identity.BOB, "create", "-f", dir.resolve("missing.yaml").toString())).isEqualTo(ConnectCommand.EXIT_ERROR);
        assertThat(err.toString()).contains("cannot read " + dir.resolve("missing.yaml") + ": NoSuchFileException");
    }

    /** create on portforwards in {@code ns}, and create on pods/portforward too when {@code portForward}. */
    private static void grantForwarding(TestCluster cluster, TestNamespace ns, Identity who, boolean portForward) {
        var role = new RoleBuilder().withNewMetadata().withName("forwarder").withNamespace(ns.name()).endMetadata()
                .addNewRule().withApiGroups("porthole.dev").withResources("portforwards").withVerbs("create", "get").endRule();
        if (portForward) {
            role.addNewRule().withApiGroups("").withResources("pods/portforward").withVerbs("create").endRule();
        }
        cluster.admin().resource(role.build()).create();
        cluster.admin().resource(new RoleBindingBuilder().withNewMetadata().withName("forwarder").withNamespace(ns.name())
                .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "forwarder")
                .addNewSubject().withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(who.username()).endSubject()
                .build()).create();
    }

    private int run(TestCluster cluster, Identity as, String... args) {
        CommandLine cli = PortholeCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--kubeconfig";
        all[args.length + 1] = cluster.kubeconfig().toString();
        all[args.length + 2] = "--context";
        all[args.length + 3] = as.contextName();
        return cli.execute(all);
    }
}
