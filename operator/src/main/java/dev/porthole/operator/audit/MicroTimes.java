package dev.porthole.operator.audit;

import io.fabric8.kubernetes.api.model.MicroTime;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Kubernetes' MicroTime: RFC 3339 with exactly six fractional digits. {@link Instant#toString} drops trailing zero
 * digits (".583Z" at a whole millisecond, none at a whole second), which the API server refuses with 400, so an
 * Event written at such an instant would be lost.
 */
public final class MicroTimes {
    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")
            .withZone(ZoneOffset.UTC);

    private MicroTimes() {
    }

    public static MicroTime of(Instant instant) {
        return new MicroTime(FORMAT.format(instant));
    }
}
