package dev.porthole.e2e.podrunner;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives each pod its own network, the way a bridge CNI plugin would: a bridge {@value #BRIDGE} with
 * 10.244.0.1/16 on the host, and per pod a network namespace {@code ph-<hash>} with {@code lo} up and a
 * veth pair whose pod end is {@code eth0} with the pod's 10.244.x.y/16. There is deliberately no default
 * route in the pod: it reaches the host's bridge address (where the relay listens) and other pods, and
 * nothing else, so a pod's traffic can never leave this machine (and name lookups fail at once instead of
 * waiting for an unreachable DNS server).
 *
 * <p>Only names starting {@code ph-} are ever created or removed.
 */
final class PodNetworks {
    static final String BRIDGE = "ph-br0";
    static final String PREFIX = "ph-";
    private static final Logger log = LoggerFactory.getLogger(PodNetworks.class);

    private final CommandRunner commands;
    private final String ip;
    private final IpPool pool = new IpPool();
    private final Set<String> active = ConcurrentHashMap.newKeySet();

    PodNetworks(CommandRunner commands, String ipBinary) {
        this.commands = commands;
        this.ip = ipBinary;
    }

    /** Network namespace name for a pod: {@code ph-} and 10 hex digits of its UID's SHA-256. */
    static String netnsName(String podUid) {
        return PREFIX + hash(podUid);
    }

    /** Host end of the pod's veth pair ({@code ph-v} + the same hash; 14 characters, under Linux's 15). */
    static String hostVethName(String podUid) {
        return PREFIX + "v" + hash(podUid);
    }

    /** Removes what a killed run left ({@link #removeLeftovers()}) and creates the bridge. */
    void setUp() {
        removeLeftovers();
        commands.runChecked(ip, "link", "add", BRIDGE, "type", "bridge");
        commands.runChecked(ip, "addr", "add", IpPool.GATEWAY + "/" + IpPool.PREFIX_LENGTH, "dev", BRIDGE);
        commands.runChecked(ip, "link", "set", BRIDGE, "up");
    }

    String hostAddress() {
        return IpPool.GATEWAY;
    }

    /** Creates the pod's namespace and veth and gives it the next free address. */
    PodNetwork create(String podUid) {
        String netns = netnsName(podUid);
        String veth = hostVethName(podUid);
        String address = pool.allocate();
        try {
            commands.runChecked(ip, "netns", "add", netns);
            active.add(netns);
            commands.runChecked(ip, "-n", netns, "link", "set", "lo", "up");
            commands.runChecked(ip, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns);
            commands.runChecked(ip, "link", "set", veth, "master", BRIDGE);
            commands.runChecked(ip, "link", "set", veth, "up");
            commands.runChecked(ip, "-n", netns, "addr", "add", address + "/" + IpPool.PREFIX_LENGTH, "dev", "eth0");
            commands.runChecked(ip, "-n", netns, "link", "set", "eth0", "up");
            return new PodNetwork(Optional.of(netns), address);
        } catch (RuntimeException e) {
            removeNamespace(netns);
            commands.run(List.of(ip, "link", "del", veth));
            pool.release(address);
            throw e;
        }
    }

    /**
     * Deletes the pod's namespace (its veth pair goes with it), first killing whatever still runs in it;
     * the caller stopped the pod's processes already, so that is only a safety net.
     */
    void delete(String podUid, PodNetwork network) {
        network.netns().ifPresent(this::removeNamespace);
        commands.run(List.of(ip, "link", "del", hostVethName(podUid)));
        pool.release(network.podIp());
    }

    /** Deletes every pod namespace this instance created, and the bridge. */
    void tearDown() {
        for (String netns : List.copyOf(active)) {
            removeNamespace(netns);
        }
        commands.run(List.of(ip, "link", "del", BRIDGE));
    }

    /**
     * Removes {@code ph-*} namespaces (killing what runs in them), {@code ph-*} links and the bridge: what
     * a run that was killed before it could clean up left behind. The caller holds the runner's host lock,
     * so no live runner owns them.
     */
    void removeLeftovers() {
        List<String> namespaces = leftoverNamespaces();
        for (String netns : namespaces) {
            removeNamespace(netns);
        }
        List<String> links = leftoverLinks();
        for (String link : links) {
            commands.run(List.of(ip, "link", "del", link));
        }
        if (!namespaces.isEmpty() || !links.isEmpty()) {
            log.atInfo().addKeyValue("namespaces", namespaces).addKeyValue("links", links)
                    .log("removed pod networks left by an earlier run");
        }
    }

    List<String> leftoverNamespaces() {
        List<String> names = new ArrayList<>();
        for (String line : commands.runChecked(ip, "netns", "list").split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith(PREFIX)) {
                names.add(name);
            }
        }
        return names;
    }

    List<String> leftoverLinks() {
        List<String> names = new ArrayList<>();
        for (String line : commands.runChecked(ip, "-o", "link", "show").split("\n")) {
            String[] fields = line.strip().split("\\s+");
            if (fields.length < 2) {
                continue;
            }
            String name = fields[1].replaceAll(":$", "").replaceAll("@.*$", "");
            if (name.startsWith(PREFIX)) {
                names.add(name);
            }
        }
        return names;
    }

    private void removeNamespace(String netns) {
        if (!netns.startsWith(PREFIX)) {
            throw new IllegalArgumentException("refusing to touch network namespace " + netns);
        }
        CommandRunner.Result pids = commands.run(List.of(ip, "netns", "pids", netns));
        if (pids.exitCode() == 0) {
            for (String pid : pids.stdout().strip().split("\\s+")) {
                if (!pid.isEmpty()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> {
                        log.atWarn().addKeyValue("netns", netns).addKeyValue("pid", p.pid())
                                .log("killing a process still running in a pod network");
                        p.destroyForcibly();
                        p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null).join();
                    });
                }
            }
        }
        commands.run(List.of(ip, "netns", "del", netns));
        active.remove(netns);
    }

    private static String hash(String podUid) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(podUid.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
