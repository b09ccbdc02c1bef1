package dev.porthole.api.v1alpha1;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide limits on forwards. Every policy that matches a forward's namespace applies, and the
 * strictest value of each setting wins.
 */
@Group(PortForward.GROUP)
@Version(PortForward.VERSION)
@Kind("PortForwardPolicy")
@Singular("portforwardpolicy")
@Plural("portforwardpolicies")
@ShortNames({"pfp"})
public class PortForwardPolicy extends CustomResource<PortForwardPolicySpec, Void> {
}
