package dev.porthole.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * An ephemeral, audited port forward to one target inside the cluster. The operator deletes it at
 * {@code status.expiresAt}; deleting it earlier revokes it.
 */
@Group(PortForward.GROUP)
@Version(PortForward.VERSION)
@Kind("PortForward")
@Singular("portforward")
@Plural("portforwards")
@ShortNames({"pf"})
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Target", jsonPath = ".status.target", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Creator", jsonPath = ".spec.requestedBy.user", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Expires", jsonPath = ".status.expiresAt", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class PortForward extends CustomResource<PortForwardSpec, PortForwardStatus> implements Namespaced {
    public static final String GROUP = "porthole.dev";
    public static final String VERSION = "v1alpha1";
    public static final String CRD_NAME = "portforwards." + GROUP;

    @Override
    protected PortForwardStatus initStatus() {
        return new PortForwardStatus();
    }

    /** "namespace/name", the way users and audit records name a forward. */
    public String qualifiedName() {
        return getMetadata().getNamespace() + "/" + getMetadata().getName();
    }
}
