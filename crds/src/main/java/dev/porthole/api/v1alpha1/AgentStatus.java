package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class AgentStatus {
    @JsonPropertyDescription("Pod the agent runs in.")
    private String pod;
    @JsonPropertyDescription("Name of the agent's ephemeral container in that pod.")
    private String container;
    @JsonPropertyDescription("When the agent last connected to the relay (RFC 3339).")
    private String connectedAt;
    @JsonPropertyDescription("SHA-256 (lowercase hex) of the agent's token, which the relay checks a connecting agent "
            + "against; set only while the forward is Active. The token itself stays in its Secret.")
    private String tokenSha256;

    public AgentStatus() {
    }

    public AgentStatus(String pod, String container, String connectedAt) {
        this.pod = pod;
        this.container = container;
        this.connectedAt = connectedAt;
    }

    public String getPod() { return pod; }
    public void setPod(String pod) { this.pod = pod; }
    public String getContainer() { return container; }
    public void setContainer(String container) { this.container = container; }
    public String getConnectedAt() { return connectedAt; }
    public void setConnectedAt(String connectedAt) { this.connectedAt = connectedAt; }
    public String getTokenSha256() { return tokenSha256; }
    public void setTokenSha256(String tokenSha256) { this.tokenSha256 = tokenSha256; }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentStatus a && Objects.equals(pod, a.pod) && Objects.equals(container, a.container)
                && Objects.equals(connectedAt, a.connectedAt) && Objects.equals(tokenSha256, a.tokenSha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pod, container, connectedAt, tokenSha256);
    }
}
