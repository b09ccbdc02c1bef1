package dev.porthole.operator.audit;

/** The reasons of Porthole's audit Events, as DESIGN.md names them. */
public enum AuditReason {
    Accepted("Normal"),
    Rejected("Warning"),
    TargetUnavailable("Warning"),
    AgentLimitReached("Warning"),
    AgentInjected("Normal"),
    AgentReplaced("Warning"),
    AgentFailed("Warning"),
    AgentInjectionFailed("Warning"),
    AgentConnected("Normal"),
    AgentDisconnected("Warning"),
    AgentRejected("Warning"),
    CredentialIssued("Normal"),
    CredentialDenied("Warning"),
    SessionOpened("Normal"),
    SessionClosed("Normal"),
    SessionDenied("Warning"),
    Expired("Normal"),
    Revoked("Normal");

    private final String type;

    AuditReason(String type) {
        this.type = type;
    }

    public String eventType() {
        return type;
    }
}
