package dev.porthole.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

public class SessionStats {
    @JsonPropertyDescription("Sessions open now.")
    private long active;
    @JsonPropertyDescription("Sessions opened since the forward began.")
    private long total;
    @JsonPropertyDescription("Bytes sent from clients to the target.")
    private long bytesIn;
    @JsonPropertyDescription("Bytes sent from the target to clients.")
    private long bytesOut;

    public long getActive() { return active; }
    public void setActive(long active) { this.active = active; }
    public long getTotal() { return total; }
    public void setTotal(long total) { this.total = total; }
    public long getBytesIn() { return bytesIn; }
    public void setBytesIn(long bytesIn) { this.bytesIn = bytesIn; }
    public long getBytesOut() { return bytesOut; }
    public void setBytesOut(long bytesOut) { this.bytesOut = bytesOut; }
}
