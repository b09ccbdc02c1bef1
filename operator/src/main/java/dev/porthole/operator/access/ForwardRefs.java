package dev.porthole.operator.access;

import dev.porthole.api.v1alpha1.PortForward;
import dev.porthole.protocol.ForwardRef;

/** The {@link ForwardRef} of a PortForward resource (the API types carry no Porthole protocol types). */
public final class ForwardRefs {
    private ForwardRefs() {
    }

    public static ForwardRef of(PortForward pf) {
        return new ForwardRef(pf.getMetadata().getNamespace(), pf.getMetadata().getName());
    }
}
