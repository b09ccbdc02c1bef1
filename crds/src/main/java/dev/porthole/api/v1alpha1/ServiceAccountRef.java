package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import java.util.Objects;

public class ServiceAccountRef {
    @Required
    @JsonPropertyDescription("Namespace of the service account.")
    private String namespace;

    @Required
    @JsonPropertyDescription("Name of the service account.")
    private String name;

    public ServiceAccountRef() {
    }

    public ServiceAccountRef(String namespace, String name) {
        this.namespace = namespace;
        this.name = name;
    }

    public String getNamespace() { return namespace; }
    public void setNamespace(String namespace) { this.namespace = namespace; }
    public String getName() { return name; }
    public void setName(String name) { this.name = name; }

    /** The user name the API server authenticates this service account as. */
    public String username() {
        return "system:serviceaccount:" + namespace + ":" + name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServiceAccountRef r && Objects.equals(namespace, r.namespace) && Objects.equals(name, r.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(namespace, name);
    }
}
