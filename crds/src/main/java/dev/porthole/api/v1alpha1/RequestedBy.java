package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;
import java.util.Objects;

/**
 * Who created a forward, exactly as the API server authenticated them. The admission policy
 * {@code porthole-creator} refuses a create whose value differs from the request's own user and groups,
 * and the schema keeps it from ever changing, so the operator can re-check the creator's rights with a
 * SubjectAccessReview and every audit record can name who granted the access. Groups are recorded
 * because Kubernetes authorization depends on them (a right bound to a group), and in the order the API
 * server gives them, so the comparison at admission is exact.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RequestedBy {

    @Required
    @JsonPropertyDescription("The creator's user name as the API server authenticates it (for example alice@example.com, "
            + "or system:serviceaccount:argocd:argocd-application-controller for a GitOps sync).")
    @Size(min = 1, max = 512)
    private String user;

    @JsonPropertyDescription("The creator's groups as the API server authenticates them, in its order "
            + "(it adds system:authenticated last).")
    @Size(max = 128)
    private List<String> groups;

    public RequestedBy() {
    }

    public RequestedBy(String user, List<String> groups) {
        this.user = user;
        this.groups = groups == null ? null : List.copyOf(groups);
    }

    public String getUser() { return user; }
    public void setUser(String user) { this.user = user; }
    public List<String> getGroups() { return groups; }
    public void setGroups(List<String> groups) { this.groups = groups; }

    /** The groups, never null. */
    public List<String> groupList() {
        return groups == null ? List.of() : groups;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestedBy r && Objects.equals(user, r.user) && Objects.equals(groupList(), r.groupList());
    }

    @Override
    public int hashCode() {
        return Objects.hash(user, groupList());
    }

    @Override
    public String toString() {
        return user;
    }
}
