package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** What `porthole connect` needs to reach a forward: the relay's client address and the CA to pin. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RelayEndpoint {
    @JsonPropertyDescription("host:port of the relay's client listener.")
    private String address;
    @JsonPropertyDescription("host:port of the relay's in-cluster client listener, when address is its external one: "
            + "forwards of bind scope Cluster are used only here.")
    private String inClusterAddress;
    @JsonPropertyDescription("PEM of the Porthole CA; clients pin it and trust nothing else for the relay.")
    private String caBundle;

    public RelayEndpoint() {
    }

    public RelayEndpoint(String address, String caBundle) {
        this(address, null, caBundle);
    }

    public RelayEndpoint(String address, String inClusterAddress, String caBundle) {
        this.address = address;
        this.inClusterAddress = inClusterAddress;
        this.caBundle = caBundle;
    }

    public String getAddress() { return address; }
    public void setAddress(String address) { this.address = address; }
    public String getInClusterAddress() { return inClusterAddress; }
    public void setInClusterAddress(String inClusterAddress) { this.inClusterAddress = inClusterAddress; }
    public String getCaBundle() { return caBundle; }
    public void setCaBundle(String caBundle) { this.caBundle = caBundle; }

    @Override
    public boolean equals(Object o) {
        return o instanceof RelayEndpoint r && Objects.equals(address, r.address)
                && Objects.equals(inClusterAddress, r.inClusterAddress) && Objects.equals(caBundle, r.caBundle);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, inClusterAddress, caBundle);
    }
}
