package dev.porthole.protocol;

import java.util.regex.Pattern;

/**
 * Which PortForward: its namespace and name, both checked as Kubernetes checks them (a DNS-1123 label, a DNS-1123
 * subdomain). It travels as text only on the wire, in certificates and in logs ({@link #toString()},
 * {@code namespace/name}); everything else holds this type, so no code splits a string by hand.
 */
public record ForwardRef(String namespace, String name) implements Comparable<ForwardRef> {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-.a-z0-9]*[a-z0-9])?");

    public ForwardRef {
        if (namespace == null || namespace.length() > 63 || !LABEL.matcher(namespace).matches()) {
            throw new IllegalArgumentException("forward namespace must be a DNS-1123 label, got '" + namespace + "'");
        }
        if (name == null || name.length() > 253 || !SUBDOMAIN.matcher(name).matches()) {
            throw new IllegalArgumentException("forward name must be a DNS-1123 subdomain, got '" + name + "'");
        }
    }

    /** Reads {@code NAMESPACE/NAME}; fails with a message naming what was given. */
    public static ForwardRef parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0 || text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("forward must be NAMESPACE/NAME, got '" + text + "'");
        }
        try {
            return new ForwardRef(text.substring(0, slash), text.substring(slash + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("forward must be NAMESPACE/NAME, got '" + text + "': " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }

    @Override
    public int compareTo(ForwardRef other) {
        int byNamespace = namespace.compareTo(other.namespace);
        return byNamespace != 0 ? byNamespace : name.compareTo(other.name);
    }
}
