package dev.porthole.relay;

import dev.porthole.protocol.ForwardRef;
import dev.porthole.protocol.Multiplexer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the relay has per forward: its agent, its live sessions, and the clients watching it. Thread-safe. */
final class ForwardRegistry {

    private final Map<ForwardRef, AgentConnection> agents = new ConcurrentHashMap<>();
    private final Map<ForwardRef, Set<ClientSession>> sessions = new ConcurrentHashMap<>();
    private final Map<ForwardRef, Set<Multiplexer>> watchers = new ConcurrentHashMap<>();

    /** Registers {@code agent} as its forward's agent and returns the one it replaces, if any. */
    AgentConnection registerAgent(AgentConnection agent) {
        return agents.put(agent.forward(), agent);
    }

    /** Forgets {@code agent} unless a newer connection already replaced it. */
    boolean unregisterAgent(AgentConnection agent) {
        return agents.remove(agent.forward(), agent);
    }

    AgentConnection agent(ForwardRef forward) {
        return agents.get(forward);
    }

    List<AgentConnection> agents() {
        return new ArrayList<>(agents.values());
    }

    /**
     * Adds {@code session} unless its forward already has {@code maxSessions} sessions (0: no limit); the
     * check and the addition are one atomic step, so concurrent admissions cannot overshoot the limit.
     */
    boolean addSession(ClientSession session, int maxSessions) {
        boolean[] added = new boolean[1];
        sessions.compute(session.forward(), (forward, set) -> {
            Set<ClientSession> live = set == null ? ConcurrentHashMap.newKeySet() : set;
            if (maxSessions == 0 || live.size() < maxSessions) {
                added[0] = live.add(session);
            }
            return live.isEmpty() ? null : live;
        });
        return added[0];
    }

    void removeSession(ClientSession session) {
        sessions.computeIfPresent(session.forward(), (f, set) -> set.remove(session) && set.isEmpty() ? null : set);
    }

    List<ClientSession> sessions(ForwardRef forward) {
        Set<ClientSession> set = sessions.get(forward);
        return set == null ? List.of() : new ArrayList<>(set);
    }

    List<ClientSession> allSessions() {
        List<ClientSession> all = new ArrayList<>();
        sessions.values().forEach(all::addAll);
        return all;
    }

    void addWatcher(ForwardRef forward, Multiplexer watcher) {
        watchers.computeIfAbsent(forward, f -> ConcurrentHashMap.newKeySet()).add(watcher);
    }

    void removeWatcher(ForwardRef forward, Multiplexer watcher) {
        watchers.computeIfPresent(forward, (f, set) -> set.remove(watcher) && set.isEmpty() ? null : set);
    }

    List<Multiplexer> watchers(ForwardRef forward) {
        Set<Multiplexer> set = watchers.get(forward);
        return set == null ? List.of() : new ArrayList<>(set);
    }

    List<Multiplexer> allWatchers() {
        List<Multiplexer> all = new ArrayList<>();
        watchers.values().forEach(all::addAll);
        return all;
    }
}
