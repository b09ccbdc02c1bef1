package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
        value = "(has(self.users) ? size(self.users) : 0) + (has(self.groups) ? size(self.groups) : 0)"
                + " + (has(self.serviceAccounts) ? size(self.serviceAccounts) : 0) > 0",
        message = "audience must name at least one user, group or service account")
public class Audience {

    @JsonPropertyDescription("User names exactly as the API server authenticates them (for example alice@example.com).")
    @Size(max = 64)
    private List<String> users;

    @JsonPropertyDescription("Groups whose members may connect (for example sre-oncall).")
    @Size(max = 64)
    private List<String> groups;

    @JsonPropertyDescription("Service accounts that may connect, by namespace and name.")
    @Size(max = 64)
    private List<ServiceAccountRef> serviceAccounts;

    public Audience() {
    }

    public static Audience users(String... names) {
        Audience a = new Audience();
        a.users = List.of(names);
        return a;
    }

    public List<String> getUsers() { return users; }
    public void setUsers(List<String> users) { this.users = users; }
    public List<String> getGroups() { return groups; }
    public void setGroups(List<String> groups) { this.groups = groups; }
    public List<ServiceAccountRef> getServiceAccounts() { return serviceAccounts; }
    public void setServiceAccounts(List<ServiceAccountRef> serviceAccounts) { this.serviceAccounts = serviceAccounts; }

    /**
     * Whether an authenticated identity belongs to this audience. A service account is recognised by the
     * user name the API server gives it, {@code system:serviceaccount:NAMESPACE:NAME}.
     */
    public boolean admits(String username, List<String> identityGroups) {
        if (username == null) {
            return false;
        }
        if (users != null && users.contains(username)) {
            return true;
        }
        if (groups != null && identityGroups != null && identityGroups.stream().anyMatch(groups::contains)) {
            return true;
        }
        return serviceAccounts != null && serviceAccounts.stream().anyMatch(sa -> sa.username().equals(username));
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Audience a)) return false;
        return Objects.equals(users, a.users) && Objects.equals(groups, a.groups)
                && Objects.equals(serviceAccounts, a.serviceAccounts);
    }

    @Override
    public int hashCode() {
        return Objects.hash(users, groups, serviceAccounts);
    }
}
