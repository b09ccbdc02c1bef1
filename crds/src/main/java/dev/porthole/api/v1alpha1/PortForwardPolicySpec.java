package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PortForwardPolicySpec {

    @JsonPropertyDescription("Namespaces this policy governs; empty or absent means every namespace.")
    private List<String> namespaces;

    @JsonPropertyDescription("Longest ttl a forward may ask for, as a Go duration. Default 8h.")
    @Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$")
    @ValidationRule(value = "duration(self) > duration('0s')", message = "maxTtl must be greater than zero")
    private String maxTtl;

    @JsonPropertyDescription("Bind scopes forwards may use. Default [Loopback].")
    private List<BindScope> allowedBindScopes;

    @JsonPropertyDescription("Target ports forwards may reach; empty or absent allows every port.")
    private List<Integer> allowedPorts;

    @JsonPropertyDescription("Whether a forward must give spec.reason. Default false.")
    private Boolean requireReason;

    @JsonPropertyDescription("Most sessions a forward may allow at once. Default 10.")
    @Min(1)
    @Max(100)
    private Integer maxSessions;

    @JsonPropertyDescription("Whether a Public forward's sourceRanges may together cover every IPv4 or every IPv6 "
            + "address (0.0.0.0/0, or 0.0.0.0/1 with 128.0.0.0/1, ...). Default false.")
    private Boolean allowAnySource;

    @JsonPropertyDescription("Default exclusions this policy lifts for the namespaces it governs: KubeSystem, "
            + "OperatorNamespace, HostNetwork, PortholePods. An exclusion is lifted only when every policy governing "
            + "the namespace lifts it. Default none.")
    private List<Exclusion> liftExclusions;

    @JsonPropertyDescription("Most Porthole agents live at once in one pod. Ephemeral containers cannot be removed and "
            + "each agent's memory counts against the pod, so this bounds what a long-lived pod accumulates. Default 4.")
    @Min(1)
    @Max(32)
    private Integer maxAgentsPerPod;

    public List<String> getNamespaces() { return namespaces; }
    public void setNamespaces(List<String> namespaces) { this.namespaces = namespaces; }
    public String getMaxTtl() { return maxTtl; }
    public void setMaxTtl(String maxTtl) { this.maxTtl = maxTtl; }
    public List<BindScope> getAllowedBindScopes() { return allowedBindScopes; }
    public void setAllowedBindScopes(List<BindScope> allowedBindScopes) { this.allowedBindScopes = allowedBindScopes; }
    public List<Integer> getAllowedPorts() { return allowedPorts; }
    public void setAllowedPorts(List<Integer> allowedPorts) { this.allowedPorts = allowedPorts; }
    public Boolean getRequireReason() { return requireReason; }
    public void setRequireReason(Boolean requireReason) { this.requireReason = requireReason; }
    public Integer getMaxSessions() { return maxSessions; }
    public void setMaxSessions(Integer maxSessions) { this.maxSessions = maxSessions; }
    public Boolean getAllowAnySource() { return allowAnySource; }
    public void setAllowAnySource(Boolean allowAnySource) { this.allowAnySource = allowAnySource; }
    public List<Exclusion> getLiftExclusions() { return liftExclusions; }
    public void setLiftExclusions(List<Exclusion> liftExclusions) { this.liftExclusions = liftExclusions; }
    public Integer getMaxAgentsPerPod() { return maxAgentsPerPod; }
    public void setMaxAgentsPerPod(Integer maxAgentsPerPod) { this.maxAgentsPerPod = maxAgentsPerPod; }
}
