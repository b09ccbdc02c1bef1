package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.Map;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
        value = "(has(self.pod) ? 1 : 0) + (has(self.selector) ? 1 : 0) + (has(self.service) ? 1 : 0) == 1",
        message = "target must name exactly one of pod, selector or service")
public class Target {

    @JsonPropertyDescription("Name of the target pod in the forward's namespace.")
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    private String pod;

    @JsonPropertyDescription("Labels selecting the target pod; of the Running and Ready pods that match, the oldest "
            + "(then the first by name) is chosen.")
    private Map<String, String> selector;

    @JsonPropertyDescription("Name of a Service in the forward's namespace; its selector chooses the pod.")
    @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    private String service;

    @Required
    @JsonPropertyDescription("Target port: a number (1-65535) or the name of a container port of the target pod.")
    @ValidationRule(value = "type(self) == string ? self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') : (self >= 1 && self <= 65535)",
            message = "port must be a number from 1 to 65535 or a container port name")
    private IntOrString port;

    public Target() {
    }

    public static Target pod(String name, IntOrString port) {
        Target t = new Target();
        t.pod = name;
        t.port = port;
        return t;
    }

    public String getPod() { return pod; }
    public void setPod(String pod) { this.pod = pod; }
    public Map<String, String> getSelector() { return selector; }
    public void setSelector(Map<String, String> selector) { this.selector = selector; }
    public String getService() { return service; }
    public void setService(String service) { this.service = service; }
    public IntOrString getPort() { return port; }
    public void setPort(IntOrString port) { this.port = port; }

    /** A short human form, as shown in the printer column and audit records. */
    public String describe() {
        String what = pod != null ? "pod/" + pod : service != null ? "service/" + service : "selector/" + selector;
        Object p = port == null ? "?" : (port.getIntVal() != null ? port.getIntVal() : port.getStrVal());
        return what + ":" + p;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Target t)) return false;
        return Objects.equals(pod, t.pod) && Objects.equals(selector, t.selector)
                && Objects.equals(service, t.service) && Objects.equals(port, t.port);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pod, selector, service, port);
    }
}
