package dev.porthole.operator;

import dev.porthole.operator.audit.AuditRecorder;
import dev.porthole.operator.identity.CaStore;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.identity.CredentialSigner;
import dev.porthole.operator.metrics.OperatorMetrics;
import dev.porthole.operator.metrics.PortholeMetrics;
import dev.porthole.operator.authz.DefaultExclusions;
import dev.porthole.operator.reconcile.PortForwardReconciler;
import dev.porthole.operator.relay.ForwardActivity;
import dev.porthole.operator.relay.RelayBridge;
import dev.porthole.operator.relay.RelayEvents;
import dev.porthole.pki.CertificateAuthority;
import dev.porthole.protocol.pki.KeyMaterial;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RegisteredController;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.processing.Controller;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Porthole operator: the CA, the in-process relay, the PortForward controller and the
 * {@code porthole.dev/client} certificate signer, on one Kubernetes client.
 */
public final class PortholeOperator implements AutoCloseable {
    /**
     * With leader election, the leader labels its own pod with this ({@code "true"}) and the relay
     * Service selects it, so agents and clients of a forward always meet on the same replica's relay.
     */
    public static final String RELAY_LEADER_LABEL = "porthole.dev/relay-leader";
    private static final Logger log = LoggerFactory.getLogger(PortholeOperator.class);

    private final Operator operator;
    /** The in-process relay; null when the relay runs apart ({@link RelayMode#SEPARATE}). */
    private final RelayBridge relay;
    /** What a separate relay saw, from its Events; null with the in-process relay. */
    private final RelayEvents relayEvents;
    private final RelayEndpoints endpoints;
    private final CertificateAuthority ca;
    private final AtomicBoolean leading;
    private final AtomicBoolean closing;
    private final java.time.Duration relayDrain;

    private PortholeOperator(Operator operator, RelayBridge relay, RelayEvents relayEvents, RelayEndpoints endpoints,
                             CertificateAuthority ca, AtomicBoolean leading, AtomicBoolean closing,
                             java.time.Duration relayDrain) {
        this.relayDrain = relayDrain;
        this.operator = operator;
        this.relay = relay;
        this.relayEvents = relayEvents;
        this.endpoints = endpoints;
        this.ca = ca;
        this.leading = leading;
        this.closing = closing;
    }

    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock) {
        return start(client, settings, clock, RelayControl.NONE);
    }

    /** As {@link #start(KubernetesClient, OperatorSettings, Clock)}, also telling {@code observer} of every forward closed. */
    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock, RelayControl observer) {
        return start(client, settings, clock, observer, null);
    }

    /**
     * As {@link #start(KubernetesClient, OperatorSettings, Clock, RelayControl)}, recording reconciles,
     * forwards by phase, sessions, credentials and relay connections into {@code metrics} (null: none).
     */
    public static PortholeOperator start(KubernetesClient client, OperatorSettings settings, Clock clock, RelayControl observer,
                                         PortholeMetrics metrics) {
        OperatorMetrics meters = metrics == null ? OperatorMetrics.NONE : metrics;
        CertificateAuthority ca = CaStore.ensureCa(client, settings.namespace(), clock);
        KeyMaterial relayKey = CaStore.ensureRelayCertificate(client, settings.namespace(), ca,
                settings.relayCertificateNames(), clock);
        AuditRecorder audit = new AuditRecorder(client, clock, settings.instance(), meters);
        boolean separate = settings.relayMode() == RelayMode.SEPARATE;
        RelayBridge relay = separate ? null : RelayBridge.start(client,
                new AuditRecorder(client, clock, settings.instance(), AuditRecorder.RELAY, meters), ca, relayKey,
                settings.relayBindAddress(), settings.relayAgentPort(), settings.relayClientPort(),
                settings.relayExternalClientPort(), settings.relayExternalClientAddresses(), clock, meters);
        RelayEvents relayEvents = separate ? RelayEvents.start(client) : null;
        ForwardActivity activity = separate ? relayEvents.activity() : relay.activity();
        RelayControl control = separate ? relayEvents.control().andThen(observer) : relay.andThen(observer);
        // a separate relay listens where the settings say; the operator's own on the ports it bound
        int agentPort = separate ? settings.relayAgentPort() : relay.server().agentPort();
        int listenerClientPort = separate ? settings.relayClientPort() : relay.server().clientPort();
        boolean external = separate ? settings.relayExternalClientPort() >= 0
                : relay.server().externalClientAddress().isPresent();
        int clientPort = settings.relayClientAdvertisedPort() > 0 ? settings.relayClientAdvertisedPort() : listenerClientPort;
        // with an external listener, clients outside are told its address, and Cluster-scope clients the in-cluster one
        String inCluster = external ? settings.relayAgentHost() + ":" + listenerClientPort : null;
        String agentAddress = settings.relayAgentAddresses().isEmpty() ? settings.relayAgentHost() + ":" + agentPort
                : settings.relayAgentAddresses();
        RelayEndpoints endpoints = new RelayEndpoints(agentAddress,
                settings.relayClientHost() + ":" + clientPort, inCluster, ca.keyMaterial().certificateChainPem());
        AtomicBoolean leading = new AtomicBoolean(!settings.leaderElection());
        AtomicBoolean closing = new AtomicBoolean();
        if (settings.leaderElection()) {
            labelRelayLeader(client, settings, false); // a restarted former leader must not keep receiving relay traffic
        }
        Operator operator = new Operator(o -> {
            o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withStopOnInformerErrorDuringStartup(true);
            if (metrics != null) {
                o.withMetrics(metrics.reconcileMetrics());
            }
            if (settings.leaderElection()) {
                o.withLeaderElectionConfiguration(leaderElection(client, settings, leading, closing));
            }
        });
        RegisteredController<PortForward> forwards = operator.register(new PortForwardReconciler(client, clock,
                settings.agentImage(), endpoints, audit, control, activity,
                new DefaultExclusions(settings.namespace(), settings.instance()), ca));
        operator.register(new CredentialSigner(client, ca, audit, clock, meters));
        if (metrics != null) {
            metrics.trackForwards(() -> cached(forwards));
            if (relay != null) {
                metrics.trackRelay(() -> relay.server().stats());
            }
        }
        try {
            operator.start();
        } catch (RuntimeException e) {
            if (relay != null) {
                relay.close();
            }
            if (relayEvents != null) {
                relayEvents.close();
            }
            throw e;
        }
        return new PortholeOperator(operator, relay, relayEvents, endpoints, ca, leading, closing, settings.relayDrain());
    }

    /**
     * A replica that loses its Lease exits, so it never reconciles next to the new leader; one that is
     * being closed (shutdown hook, tests) just stops. The SDK's own exit is off: it would also fire on a
     * graceful stop, and System.exit inside a shutdown hook never returns.
     */
    private static LeaderElectionConfiguration leaderElection(KubernetesClient client, OperatorSettings settings,
                                                              AtomicBoolean leading, AtomicBoolean closing) {
        return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(settings.leaseName())
                .withLeaseNamespace(settings.namespace())
                .withIdentity(settings.instance())
                .withExitOnStopLeading(false)
                .withLeaderCallbacks(new LeaderCallbacks(
                        () -> {
                            leading.set(true);
                            labelRelayLeader(client, settings, true);
                        },
                        () -> {
                            leading.set(false);
                            labelRelayLeader(client, settings, false);
                            if (!closing.get()) {
                                log.error("lost the leader Lease {}; exiting so that only the new leader reconciles",
                                        settings.leaseName());
                                System.exit(1);
                            }
                        },
                        leader -> log.info("operator leader is {}", leader)))
                .build();
    }

    /** Sets or removes {@link #RELAY_LEADER_LABEL} on this replica's own pod (named by POD_NAME). */
    private static void labelRelayLeader(KubernetesClient client, OperatorSettings settings, boolean leader) {
        String patch = "{\"metadata\":{\"labels\":{\"" + RELAY_LEADER_LABEL + "\":" + (leader ? "\"true\"" : "null") + "}}}";
        try {
            client.pods().inNamespace(settings.namespace()).withName(settings.instance())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            log.info("relay leader label {} on pod {}", leader ? "set" : "removed", settings.instance());
        } catch (KubernetesClientException e) {
            log.warn("cannot {} the relay leader label on pod {}/{}: {}", leader ? "set" : "remove",
                    settings.namespace(), settings.instance(), e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Stream<PortForward> cached(RegisteredController<PortForward> forwards) {
        try {
            if (forwards instanceof Controller<?> controller) {
                return ((Controller<PortForward>) controller).getEventSourceManager().getControllerEventSource().list();
            }
        } catch (RuntimeException e) {
            log.debug("forward cache not readable (standby replica?): {}", e.getMessage());
        }
        return Stream.empty();
    }

    /** The process is up and the controllers were started (standby replicas count as live). */
    public boolean isLive() {
        return operator.getRuntimeInfo().isStarted();
    }

    /**
     * Ready to serve: started, and when this replica leads (or runs alone) every informer is healthy.
     * Standby replicas are ready too, so rollouts proceed; the relay Service selects only the leader.
     */
    public boolean isReady() {
        return isLive() && (!leading.get() || operator.getRuntimeInfo().allEventSourcesAreHealthy());
    }

    /** Whether this replica reconciles (always true without leader election). */
    public boolean isLeader() {
        return leading.get();
    }

    public RelayEndpoints endpoints() {
        return endpoints;
    }

    public CertificateAuthority certificateAuthority() {
        return ca;
    }

    /** The in-process relay; null when the relay runs apart. */
    public RelayBridge relay() {
        return relay;
    }

    /**
     * Stops reconciling, then lets the relay drain: it accepts nothing new, tells clients to reconnect, and lets live
     * sessions finish for up to the configured grace before it closes.
     */
    @Override
    public void close() {
        closing.set(true);
        operator.stop();
        if (relay != null) {
            relay.drain(relayDrain);
        }
        if (relayEvents != null) {
            relayEvents.close();
        }
    }
}
