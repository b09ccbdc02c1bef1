package dev.porthole.operator.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * The audit JSON lines the operator writes on {@code porthole.audit} while this is open, parsed: what
 * gets shipped and kept, so what a test asserts on is what an auditor reads.
 */
public final class AuditLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Logger logger = (Logger) LoggerFactory.getLogger("porthole.audit");
    private final List<JsonNode> records = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            try {
                records.add(JSON.readTree(event.getFormattedMessage()));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    public AuditLog() {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    /** The records of {@code audit} kind (e.g. SessionOpened) for forward {@code namespace/name}, oldest first. */
    public List<JsonNode> records(String forward, String audit) {
        return records.stream().filter(r -> forward.equals(r.path("forward").asText())
                && audit.equals(r.path("audit").asText())).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
