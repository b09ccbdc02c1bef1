package dev.porthole.sidecar;

import dev.porthole.protocol.tls.SelfCheck;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of {@code porthole-agent.jar}: configuration from the environment (see {@link AgentSettings}).
 * {@code --self-check} alone prints the TLS provider in use and exits ({@link SelfCheck}).
 */
public final class AgentMain {

    private static final Logger LOG = LoggerFactory.getLogger(AgentMain.class);

    private AgentMain() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && "--self-check".equals(args[0])) {
            System.exit(SelfCheck.run(System.out, System.err));
            return;
        }
        // replicas come and go behind the relays' headless Service: keep name lookups fresh (the JVM keeps them 30 s)
        java.security.Security.setProperty("networkaddress.cache.ttl", "5");
        AgentConfig config;
        try {
            config = AgentSettings.read(System.getenv(), args);
        } catch (AgentSettings.InvalidSettingsException e) {
            System.err.println("porthole-agent: " + e.getMessage());
            System.exit(2);
            return;
        }
        Agent agent = new Agent(config, Clock.systemUTC()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!agent.termination().isDone()) {
                agent.close();
            }
        }, "porthole-agent-shutdown"));
        String why = agent.termination().join();
        LOG.atInfo().addKeyValue("forward", config.forward()).log("agent exited: " + why);
        System.exit(0);
    }
}
