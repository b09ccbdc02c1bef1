package dev.porthole.operator.relay;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.access.ForwardRefs;
import dev.porthole.operator.time.Expiry;
import dev.porthole.protocol.EndReason;
import dev.porthole.relay.RelayServer;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.time.Clock;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay running apart from the operator cuts a forward's sessions itself, from what its informer sees, where the
 * operator's own relay is told by the reconciler: a forward deleted before its expiry is REVOKED, one deleted at or
 * after it EXPIRED, and an Active one the operator marks Rejected (a tightened policy, its creator's right gone)
 * REJECTED, with the operator's message. The watch brings each change within milliseconds.
 */
final class ForwardEnds implements ResourceEventHandler<PortForward> {

    private static final Logger LOG = LoggerFactory.getLogger(ForwardEnds.class);

    private final RelayServer server;
    private final Clock clock;
    private final BiConsumer<PortForward, Boolean> deleted;

    /** @param deleted told of every deleted forward (and whether it had expired), after its sessions were cut */
    ForwardEnds(RelayServer server, Clock clock, BiConsumer<PortForward, Boolean> deleted) {
        this.server = server;
        this.clock = clock;
        this.deleted = deleted;
    }

    @Override
    public void onAdd(PortForward pf) {
        // nothing to cut: a forward becomes usable through its status, which the session checks read
    }

    @Override
    public void onUpdate(PortForward before, PortForward after) {
        if (phase(before) == Phase.Active && phase(after) == Phase.Rejected) {
            String message = after.getStatus().getMessage();
            LOG.atInfo().addKeyValue("forward", after.qualifiedName()).log("forward rejected; cutting its sessions");
            server.closeForward(ForwardRefs.of(after), EndReason.REJECTED, "forward " + after.qualifiedName()
                    + " was rejected" + (message == null || message.isBlank() ? "" : ": " + message));
        }
    }

    @Override
    public void onDelete(PortForward pf, boolean finalStateUnknown) {
        boolean expired = !clock.instant().isBefore(Expiry.of(pf));
        LOG.atInfo().addKeyValue("forward", pf.qualifiedName()).addKeyValue("expired", expired)
                .log("forward deleted; cutting its sessions");
        server.closeForward(ForwardRefs.of(pf), expired ? EndReason.EXPIRED : EndReason.REVOKED);
        deleted.accept(pf, expired);
    }

    private static Phase phase(PortForward pf) {
        return pf.getStatus() == null ? null : pf.getStatus().getPhase();
    }
}
