package dev.porthole.operator.access;

import dev.porthole.api.v1alpha1.Phase;
import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.operator.time.Expiry;
import dev.porthole.relay.ForwardAccess;
import java.util.Optional;

/** A PortForward as {@link ForwardAccess} sees it. */
public final class ForwardFacts {
    private ForwardFacts() {
    }

    public static ForwardAccess.Forward of(PortForward pf) {
        Phase phase = pf.getStatus() == null ? null : pf.getStatus().getPhase();
        Optional<String> inactive = phase == Phase.Active ? Optional.empty()
                : Optional.of(phase == null ? Phase.Pending.name() : phase.name());
        return new ForwardAccess.Forward(pf.getMetadata().getUid(), Expiry.of(pf),
                pf.getMetadata().getDeletionTimestamp() != null, inactive, pf.getSpec().getAudience()::admits);
    }
}
