package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

/** What `porthole connect` needs to reach a forward: the relay's client address and the CA to pin. */
public class RelayEndpoint {
    @JsonPropertyDescription("host:port of the relay's client listener.")
    private String address;
    @JsonPropertyDescription("PEM of the Porthole CA; clients pin it and trust nothing else for the relay.")
    private String caBundle;

    public RelayEndpoint() {
    }

    public RelayEndpoint(String address, String caBundle) {
        this.address = address;
        this.caBundle = caBundle;
    }

    public String getAddress() { return address; }
    public void setAddress(String address) { this.address = address; }
    public String getCaBundle() { return caBundle; }
    public void setCaBundle(String caBundle) { this.caBundle = caBundle; }

    @Override
    public boolean equals(Object o) {
        return o instanceof RelayEndpoint r && Objects.equals(address, r.address) && Objects.equals(caBundle, r.caBundle);
    }

    @Override
    public int hashCode() {
        return Objects.hash(address, caBundle);
    }
}
