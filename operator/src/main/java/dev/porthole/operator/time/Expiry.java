package dev.porthole.operator.time;

import dev.porthole.api.v1alpha1.PortForward;
import java.time.Instant;

/** When a forward ends: the earlier of creation + ttl and notAfter. Derived from the resource alone. */
public final class Expiry {
    private Expiry() {
    }

    public static Instant of(PortForward pf) {
        Instant created = Instant.parse(pf.getMetadata().getCreationTimestamp());
        Instant byTtl = created.plus(GoDuration.parse(pf.getSpec().getTtl()));
        String notAfter = pf.getSpec().getNotAfter();
        if (notAfter == null) {
            return byTtl;
        }
        Instant absolute = java.time.OffsetDateTime.parse(notAfter).toInstant();
        return absolute.isBefore(byTtl) ? absolute : byTtl;
    }
}
