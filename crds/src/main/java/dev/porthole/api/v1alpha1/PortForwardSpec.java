package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
        value = "(has(self.bindScope) && self.bindScope == 'Public') == (has(self.sourceRanges) && size(self.sourceRanges) > 0)",
        message = "sourceRanges must be set when, and only when, bindScope is Public")
// No update may widen a forward or lengthen its life. Rules on a field run only when the field is present
// in both the old and the new object; these catch the removal of a field that limits the forward.
@ValidationRule(value = "!has(oldSelf.notAfter) || has(self.notAfter)",
        message = "notAfter may not be removed; it may only be moved earlier")
@ValidationRule(value = "!has(oldSelf.maxSessions) || has(self.maxSessions)",
        message = "maxSessions may not be removed; it may only be lowered")
@ValidationRule(value = "!has(oldSelf.sourceRanges) || has(self.sourceRanges)",
        message = "sourceRanges may not be removed; entries may only be removed")
@ValidationRule(value = "!has(oldSelf.reason) || has(self.reason)",
        message = "reason may not be removed once set")
@ValidationRule(value = "has(self.requestedBy) == has(oldSelf.requestedBy)",
        message = "requestedBy records who created the forward and cannot be added or removed later")
public class PortForwardSpec {

    /** Hard cap enforced by the schema, whatever any policy says. */
    public static final String HARD_MAX_TTL = "24h";

    @Required
    @JsonPropertyDescription("What to reach: exactly one of pod, selector or service, and a port. Immutable.")
    @ValidationRule(value = "self == oldSelf", message = "target is immutable; create a new PortForward instead")
    private Target target;

    @Required
    @JsonPropertyDescription("Who may connect: users, groups and service accounts as the Kubernetes API server authenticates them. "
            + "May be narrowed (members removed; their new sessions are refused) but never widened.")
    @ValidationRule(value = "(!has(self.users) || (has(oldSelf.users) && self.users.all(u, u in oldSelf.users)))"
            + " && (!has(self.groups) || (has(oldSelf.groups) && self.groups.all(g, g in oldSelf.groups)))"
            + " && (!has(self.serviceAccounts) || (has(oldSelf.serviceAccounts) && self.serviceAccounts.all(a, a in oldSelf.serviceAccounts)))",
            message = "audience may only be narrowed, never widened; create a new PortForward to add someone")
    private Audience audience;

    @Required
    @Pattern("^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$")
    @JsonPropertyDescription("How long the forward lives after creation, as a Go duration such as 30m or 1h30m. "
            + "Must be positive and at most " + HARD_MAX_TTL + "; a PortForwardPolicy may cap it lower. May only be shortened.")
    @ValidationRule(value = "duration(self) > duration('0s')", message = "ttl must be greater than zero")
    @ValidationRule(value = "duration(self) <= duration('" + HARD_MAX_TTL + "')", message = "ttl must be at most " + HARD_MAX_TTL)
    @ValidationRule(value = "duration(self) <= duration(oldSelf)", message = "ttl may only be shortened, never lengthened")
    private String ttl;

    @JsonPropertyDescription("Optional absolute end (RFC 3339). The forward ends at the earlier of creation+ttl and notAfter; "
            + "a forward re-applied after notAfter is expired at once, never reactivated.")
    @Pattern("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
    @ValidationRule(value = "timestamp(self) <= timestamp(oldSelf)", message = "notAfter may only be moved earlier, never later")
    private String notAfter;

    @Default("Loopback")
    @JsonPropertyDescription("How widely a client may bind its local end: Loopback (127.0.0.1 only, the default), "
            + "Cluster (in-cluster addresses) or Public (a relay listener limited to sourceRanges). Immutable.")
    @ValidationRule(value = "self == oldSelf", message = "bindScope is immutable; create a new PortForward instead")
    private BindScope bindScope;

    @JsonPropertyDescription("CIDRs allowed to reach a Public forward. Required with bindScope Public, forbidden otherwise.")
    @Size(max = 16)
    @ValidationRule(value = "self.all(r, isCIDR(r))", message = "every sourceRanges entry must be a CIDR such as 203.0.113.4/32")
    @ValidationRule(value = "self.all(r, r in oldSelf)",
            message = "sourceRanges may only lose entries, never gain them; create a new PortForward to allow another range")
    private List<String> sourceRanges;

    @JsonPropertyDescription("Why this forward exists, recorded in every audit Event (for example an incident id). "
            + "A PortForwardPolicy may require it.")
    @Size(max = 256)
    @ValidationRule(value = "self == oldSelf", message = "reason is recorded in the audit trail and cannot be changed once set")
    private String reason;

    @JsonPropertyDescription("Most client sessions open at once; further sessions are refused. A policy may cap it lower.")
    @Min(1)
    @Max(100)
    @ValidationRule(value = "self <= oldSelf", message = "maxSessions may only be lowered, never raised")
    private Integer maxSessions;

    @JsonPropertyDescription("Who created the forward, exactly as the API server authenticated them. Required at creation "
            + "(the admission policy porthole-creator refuses a create without it, or with anyone else's identity, "
            + "and says what to write; kubectl porthole create fills it in). Never changes.")
    @ValidationRule(value = "self == oldSelf", message = "requestedBy records who created the forward and cannot be changed")
    private RequestedBy requestedBy;

    public Target getTarget() { return target; }
    public void setTarget(Target target) { this.target = target; }
    public Audience getAudience() { return audience; }
    public void setAudience(Audience audience) { this.audience = audience; }
    public String getTtl() { return ttl; }
    public void setTtl(String ttl) { this.ttl = ttl; }
    public String getNotAfter() { return notAfter; }
    public void setNotAfter(String notAfter) { this.notAfter = notAfter; }
    public BindScope getBindScope() { return bindScope; }
    public void setBindScope(BindScope bindScope) { this.bindScope = bindScope; }
    public List<String> getSourceRanges() { return sourceRanges; }
    public void setSourceRanges(List<String> sourceRanges) { this.sourceRanges = sourceRanges; }
    public String getReason() { return reason; }
    public void setReason(String reason) { this.reason = reason; }
    public Integer getMaxSessions() { return maxSessions; }
    public void setMaxSessions(Integer maxSessions) { this.maxSessions = maxSessions; }
    public RequestedBy getRequestedBy() { return requestedBy; }
    public void setRequestedBy(RequestedBy requestedBy) { this.requestedBy = requestedBy; }

    /** The bind scope with the schema's default applied, for objects built in code. */
    public BindScope effectiveBindScope() {
        return bindScope == null ? BindScope.Loopback : bindScope;
    }
}
