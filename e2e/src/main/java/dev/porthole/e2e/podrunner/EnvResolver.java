package dev.porthole.e2e.podrunner;

import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A container's environment as the kubelet builds it: {@code envFrom} first, then {@code env} in order
 * (later wins); {@code value} with {@code $(VAR)} expansion of variables defined before it ({@code $$}
 * escapes); {@code valueFrom.secretKeyRef}, {@code configMapKeyRef} (read from the API server; missing
 * and not {@code optional} is an error, like the kubelet's CreateContainerConfigError) and
 * {@code fieldRef} for the pod's name, namespace, UID, node name and IPs. {@code resourceFieldRef} is
 * not supported and is an error.
 */
final class EnvResolver {

    /** Reads Secrets (decoded) and ConfigMaps; empty when the object does not exist. */
    interface Objects {
        Optional<Map<String, String>> secret(String namespace, String name);

        Optional<Map<String, String>> configMap(String namespace, String name);
    }

    /** A container's environment cannot be built; the message says why, as the kubelet would. */
    static final class ConfigException extends Exception {
        ConfigException(String message) {
            super(message);
        }
    }

    private final Objects objects;

    EnvResolver(Objects objects) {
        this.objects = objects;
    }

    /**
     * @param fields values for {@code fieldRef} paths, e.g. {@code metadata.name}, {@code status.podIP}
     */
    Map<String, String> resolve(String namespace, List<EnvFromSource> envFrom, List<EnvVar> env,
                                Map<String, String> fields) throws ConfigException {
        Map<String, String> result = new LinkedHashMap<>();
        for (EnvFromSource source : envFrom == null ? List.<EnvFromSource>of() : envFrom) {
            String prefix = source.getPrefix() == null ? "" : source.getPrefix();
            Optional<Map<String, String>> data = Optional.empty();
            if (source.getSecretRef() != null) {
                data = objects.secret(namespace, source.getSecretRef().getName());
                if (data.isEmpty() && !Boolean.TRUE.equals(source.getSecretRef().getOptional())) {
                    throw new ConfigException("secret \"" + source.getSecretRef().getName() + "\" not found");
                }
            } else if (source.getConfigMapRef() != null) {
                data = objects.configMap(namespace, source.getConfigMapRef().getName());
                if (data.isEmpty() && !Boolean.TRUE.equals(source.getConfigMapRef().getOptional())) {
                    throw new ConfigException("configmap \"" + source.getConfigMapRef().getName() + "\" not found");
                }
            }
            data.ifPresent(d -> d.forEach((k, v) -> result.put(prefix + k, v)));
        }
        for (EnvVar var : env == null ? List.<EnvVar>of() : env) {
            if (var.getValueFrom() == null) {
                result.put(var.getName(), expand(var.getValue() == null ? "" : var.getValue(), result));
                continue;
            }
            Optional<String> value = valueFrom(namespace, var, fields);
            value.ifPresent(v -> result.put(var.getName(), v));
        }
        return result;
    }

    private Optional<String> valueFrom(String namespace, EnvVar var, Map<String, String> fields) throws ConfigException {
        var from = var.getValueFrom();
        if (from.getSecretKeyRef() != null) {
            SecretKeySelector ref = from.getSecretKeyRef();
            return key("secret", ref.getName(), ref.getKey(), ref.getOptional(), objects.secret(namespace, ref.getName()));
        }
        if (from.getConfigMapKeyRef() != null) {
            ConfigMapKeySelector ref = from.getConfigMapKeyRef();
            return key("configmap", ref.getName(), ref.getKey(), ref.getOptional(), objects.configMap(namespace, ref.getName()));
        }
        if (from.getFieldRef() != null) {
            String path = from.getFieldRef().getFieldPath();
            String value = fields.get(path);
            if (value == null) {
                throw new ConfigException("env " + var.getName() + ": fieldRef " + path + " is not supported by the local pod runner");
            }
            return Optional.of(value);
        }
        throw new ConfigException("env " + var.getName() + ": this valueFrom is not supported by the local pod runner");
    }

    private static Optional<String> key(String kind, String name, String key, Boolean optional,
                                        Optional<Map<String, String>> data) throws ConfigException {
        boolean mayBeMissing = Boolean.TRUE.equals(optional);
        if (data.isEmpty()) {
            if (mayBeMissing) {
                return Optional.empty();
            }
            throw new ConfigException(kind + " \"" + name + "\" not found");
        }
        String value = data.get().get(key);
        if (value == null && !mayBeMissing) {
            throw new ConfigException("couldn't find key " + key + " in " + kind + " " + name);
        }
        return Optional.ofNullable(value);
    }

    /** Kubernetes' {@code $(VAR)} expansion: defined variables are replaced, others left as written; {@code $$} is {@code $}. */
    static String expand(String input, Map<String, String> defined) {
        StringBuilder out = new StringBuilder(input.length());
        int i = 0;
        while (i < input.length()) {
            char c = input.charAt(i);
            if (c != '$' || i + 1 >= input.length()) {
                out.append(c);
                i++;
                continue;
            }
            char next = input.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '(') {
                int close = input.indexOf(')', i + 2);
                if (close < 0) {
                    out.append(input, i, input.length());
                    break;
                }
                String name = input.substring(i + 2, close);
                String value = defined.get(name);
                out.append(value != null ? value : input.substring(i, close + 1));
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }
}
