package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PortForwardStatus {

    @JsonPropertyDescription("Where the forward is in its life. Active: its agent is injected and it can be used until"
            + " expiresAt. Rejected: policy or its creator's own rights refuse it (nothing is injected, live sessions are"
            + " cut). Failed: its target or agent is unavailable, or the pod's agent limit is reached (retried until it"
            + " expires). Pending: not reconciled yet. Rejected and Failed end when their cause does; an expired or"
            + " revoked forward is deleted.")
    private Phase phase;

    @JsonPropertyDescription("When the forward ends (RFC 3339): the earlier of creation+ttl and notAfter.")
    private String expiresAt;

    @JsonPropertyDescription("The resolved target, for example pod/orders-db-0:5432.")
    private String target;

    @JsonPropertyDescription("One line saying why the forward is in its phase.")
    private String message;

    @JsonPropertyDescription("The injected tunnel agent.")
    private AgentStatus agent;

    @JsonPropertyDescription("Where clients connect: the relay's client address and the CA that signs it.")
    private RelayEndpoint relay;

    @JsonPropertyDescription("Client sessions through this forward.")
    private SessionStats sessions;

    @JsonPropertyDescription("The generation of the spec this status describes.")
    private Long observedGeneration;

    @JsonPropertyDescription("Ready, AgentConnected and PolicyCompliant conditions.")
    private List<Condition> conditions = new ArrayList<>();

    public Phase getPhase() { return phase; }
    public void setPhase(Phase phase) { this.phase = phase; }
    public String getExpiresAt() { return expiresAt; }
    public void setExpiresAt(String expiresAt) { this.expiresAt = expiresAt; }
    public String getTarget() { return target; }
    public void setTarget(String target) { this.target = target; }
    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }
    public AgentStatus getAgent() { return agent; }
    public void setAgent(AgentStatus agent) { this.agent = agent; }
    public RelayEndpoint getRelay() { return relay; }
    public void setRelay(RelayEndpoint relay) { this.relay = relay; }
    public SessionStats getSessions() { return sessions; }
    public void setSessions(SessionStats sessions) { this.sessions = sessions; }
    public Long getObservedGeneration() { return observedGeneration; }
    public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
    public List<Condition> getConditions() { return conditions; }
    public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}
