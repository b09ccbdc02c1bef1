#!/usr/bin/env bash
# One-command benchmark: raw loopback vs socat vs ssh -L (aes128-gcm) vs Porthole (CLI -> relay -> agent) vs
# kubectl port-forward through a real kubelet and containerd (the project's local node; needs root).
# Prints one Markdown table. BENCH_BYTES (default 1 GiB) sets the bulk transfer size; every path is first warmed
# up with BENCH_WARMUP bytes as one and as 8 streams (the JVMs' JIT compilers finish before anything is measured),
# then measured BENCH_REPS times; the table shows medians and CPU per run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/target
BYTES=${BENCH_BYTES:-1073741824}
PINGS=${BENCH_PINGS:-2000}
RTT_ROUNDS=${BENCH_RTT_ROUNDS:-5}  # RTT rounds over all paths in turn, so that machine noise hits every path alike
WARMUP=${BENCH_WARMUP:-1073741824}  # bytes sent through every path, as 1 and as 8 streams, before it is measured
REPS=${BENCH_REPS:-3}
PATHS=${BENCH_PATHS:-raw socat ssh porthole porthole-jdk-cli kubectl-pf}
HALF_CLOSE_BYTES=${BENCH_HALF_CLOSE_BYTES:-268435456}  # sent after the server half-closed; all must arrive
# Relay: C2 (a long-running server), small heap and native areas. Agent: the flags the operator injects
# (dev.porthole.sidecar.AgentJvm.JAVA_TOOL_OPTIONS). CLI: the flags of cli/kubectl-porthole, for both CLIs.
RELAY_OPTS=${RELAY_OPTS:--Xms16m -Xmx64m -Xss256k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=48m -XX:MaxDirectMemorySize=96m -XX:+UseSerialGC -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}
AGENT_OPTS=${AGENT_OPTS:--XX:-TieredCompilation -Xms8m -Xmx32m -XX:+UseSerialGC -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=24m -XX:MaxDirectMemorySize=64m -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}
CLI_OPTS=${CLI_OPTS:--XX:-TieredCompilation -Xmx64m -Xss256k -XX:+UseSerialGC -Dio.netty.allocator.type=pooled}
CLI_JDK_OPTS=${CLI_JDK_OPTS:--Xmx128m -XX:+UseSerialGC -Dio.netty.allocator.type=pooled}
SERVER=21000 SOCAT=21001 SSHL=21002 PORTHOLE=21003 PORTHOLE_JDK=21004 KUBECTL_PF=21005 SSHD=21022 RELAY_A=21443 RELAY_C=21444
mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

bash "$ROOT/scripts/setup-services.sh"
if [[ ! -f $ROOT/relay/target/porthole-relay.jar || ! -f $ROOT/tunnel-sidecar/target/porthole-agent.jar || ! -f $ROOT/cli/target/porthole.jar ]]; then
  (cd "$ROOT" && mvn -q -B -pl tunnel-protocol,tunnel-sidecar,relay,cli -am package -DskipTests)
fi
if [[ " $PATHS " == *" kubectl-pf "* ]]; then
  bash "$ROOT/scripts/setup-control-plane.sh" >/dev/null
  bash "$ROOT/scripts/setup-node.sh" >/dev/null
  (cd "$ROOT" && mvn -q -B -ntp -pl e2e -am package -DskipTests \
    && mvn -q -B -ntp -pl e2e dependency:build-classpath -Dmdep.outputFile="$OUT/e2e.classpath" -Dmdep.includeScope=runtime)
fi
javac -d "$OUT/classes" "$ROOT/bench/Bench.java"
bench() { java -Xmx256m -cp "$OUT/classes" Bench "$@"; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
# user and system CPU ticks of processes, their reaped children included
cpu_ticks() { local u=0 s=0; for p in "$@"; do [[ -r /proc/$p/stat ]] || continue
  read -r a b < <(awk '{print $14+$16, $15+$17}' /proc/$p/stat); u=$((u + a)); s=$((s + b)); done; echo "$u $s"; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
descendants() { local out=$1; for c in $(pgrep -P "$1" || true); do out="$out $(descendants "$c")"; done; echo "$out"; }
kb() { awk -v k="$2" '$1==k":" {print $2}' /proc/$1/status; }

# target: sink/echo server
java -Xmx256m -cp "$OUT/classes" Bench serve $SERVER & PIDS+=($!); wait_port $SERVER

# socat
socat TCP-LISTEN:$SOCAT,fork,reuseaddr,bind=127.0.0.1 TCP:127.0.0.1:$SERVER & SOCAT_PID=$!; PIDS+=($SOCAT_PID); wait_port $SOCAT

# ssh -L through a private sshd with key-only auth for root
S=$OUT/ssh; rm -rf "$S"; mkdir -p "$S" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$S/client_key"
cp "$S/client_key.pub" "$S/authorized_keys"; chmod 600 "$S/authorized_keys"
cat > "$S/sshd_config" <<CONF
Port $SSHD
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding yes
Ciphers aes128-gcm@openssh.com
CONF
/usr/sbin/sshd -D -f "$S/sshd_config" -E "$S/sshd.log" & SSHD_PID=$!; PIDS+=($SSHD_PID); wait_port $SSHD
ssh -N -L $SSHL:127.0.0.1:$SERVER -p $SSHD -i "$S/client_key" -c aes128-gcm@openssh.com -o Compression=no \
  -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 & SSH_PID=$!; PIDS+=($SSH_PID)
wait_port $SSHL

# Porthole: relay, agent and CLI as separate JVMs
P=$OUT/porthole; rm -rf "$P"; mkdir -p "$P"
java -jar "$ROOT/relay/target/porthole-relay.jar" demo-pki "$P" --forward bench/target --user bench --ttl 2h >/dev/null
sed -i "s/agent.port=7443/agent.port=$RELAY_A/; s/client.port=7444/client.port=$RELAY_C/" "$P/relay.properties"
echo "worker.threads=${RELAY_THREADS:-2}" >> "$P/relay.properties"
java $RELAY_OPTS -jar "$ROOT/relay/target/porthole-relay.jar" run "$P/relay.properties" > "$P/relay.log" 2>&1 & RELAY_PID=$!; PIDS+=($RELAY_PID)
wait_port $RELAY_A
PORTHOLE_RELAY_ADDRESS=localhost:$RELAY_A PORTHOLE_FORWARD=bench/target PORTHOLE_TOKEN_FILE=$P/agent-token \
PORTHOLE_CA_FILE=$P/ca.pem PORTHOLE_TARGET_PORT=$SERVER PORTHOLE_DEADLINE=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ) \
  java $AGENT_OPTS -jar "$ROOT/tunnel-sidecar/target/porthole-agent.jar" > "$P/agent.log" 2>&1 & AGENT_PID=$!; PIDS+=($AGENT_PID)
for _ in $(seq 1 100); do grep -q "connected to relay" "$P/agent.log" && break; sleep 0.1; done
connect() { exec java "$@" -jar "$ROOT/cli/target/porthole.jar" connect bench/target --local-port "$PORT" \
  --relay localhost:$RELAY_C --ca "$P/ca.pem" --cert "$P/client.pem" --key "$P/client-key.pem"; }
PORT=$PORTHOLE connect $CLI_OPTS > "$P/cli.log" 2>&1 & CLI_PID=$!; PIDS+=($CLI_PID); wait_port $PORTHOLE
PORT=$PORTHOLE_JDK connect $CLI_JDK_OPTS -Dporthole.tls.provider=jdk > "$P/cli-jdk.log" 2>&1 & CLI_JDK_PID=$!; PIDS+=($CLI_JDK_PID); wait_port $PORTHOLE_JDK

# kubectl port-forward through the real node: a pod runs the same server on its own 127.0.0.1
if [[ " $PATHS " == *" kubectl-pf "* ]]; then
  N=$OUT/node; rm -f "$N.ready"
  java -Xmx256m -cp "$ROOT/e2e/target/classes:$(cat "$OUT/e2e.classpath")" dev.porthole.e2e.NodeBench "$N" "$OUT/classes" \
    $KUBECTL_PF $SERVER "$N.ready" > "$OUT/node.log" 2>&1 & NODE_PID=$!; PIDS+=($NODE_PID)
  for _ in $(seq 1 1800); do [[ -f $N.ready ]] && break; kill -0 $NODE_PID 2>/dev/null || { tail -20 "$OUT/node.log" >&2; exit 1; }; sleep 0.1; done
  KUBECTL_PID=$(awk '{print $2}' "$N.ready"); wait_port $KUBECTL_PF
  # the node's side of a port-forward: kubelet, containerd and the pod's shim, found by the node's directory
  NODE_PIDS=$(pgrep -f -- "$N/" | tr '\n' ' ')
fi

TICK=$(getconf CLK_TCK)
declare -A ROW PORT_OF RTT50 RTT99
measure() { # name port pids...
  local name=$1 port=$2; shift 2
  [[ " $PATHS " == *" $name "* ]] || return 0
  if [[ $WARMUP -gt 0 ]]; then bench send "$port" "$WARMUP" 8 >/dev/null; bench send "$port" "$WARMUP" 1 >/dev/null; fi
  local u0 s0 u1 s1 ones=() eights=()
  PORT_OF[$name]=$port
  read -r u0 s0 < <(cpu_ticks "$@")
  for _ in $(seq 1 "$REPS"); do
    ones+=("$(bench send "$port" "$BYTES" 1)")
    eights+=("$(bench send "$port" "$BYTES" 8)")
  done
  read -r u1 s1 < <(cpu_ticks "$@")
  local one eight user sys
  one=$(median "${ones[@]}"); eight=$(median "${eights[@]}")
  user=$(awk -v a="$u1" -v b="$u0" -v t="$TICK" -v r="$REPS" 'BEGIN{printf "%.2f", (a-b)/t/r}')
  sys=$(awk -v a="$s1" -v b="$s0" -v t="$TICK" -v r="$REPS" 'BEGIN{printf "%.2f", (a-b)/t/r}')
  ROW[$name]="$one|$eight|$user|$sys"
  echo "measured $name: 1 stream ${ones[*]} MB/s, 8 streams ${eights[*]} MB/s, cpu per run user $user s sys $sys s" >&2
}
# Round trips of small messages, measured after all bulk runs: every path once per round, medians over rounds.
measure_rtt() {
  local round name rtt
  for round in $(seq 0 "$RTT_ROUNDS"); do  # round 0 warms the small-message code paths up, unmeasured
    for name in raw socat ssh porthole porthole-jdk-cli kubectl-pf; do
      [[ -n ${PORT_OF[$name]:-} ]] || continue
      rtt=$(bench rtt "${PORT_OF[$name]}" "$PINGS" 64)
      [[ $round -gt 0 ]] || continue
      RTT50[$name]="${RTT50[$name]:-} ${rtt% *}"; RTT99[$name]="${RTT99[$name]:-} ${rtt#* }"
    done
  done
  for name in "${!PORT_OF[@]}"; do
    echo "rtt $name: p50 ${RTT50[$name]} us, p99 ${RTT99[$name]} us" >&2
    # shellcheck disable=SC2086
    ROW[$name]="${ROW[$name]}|$(median ${RTT50[$name]})|$(median ${RTT99[$name]})"
  done
}
measure raw $SERVER
measure socat $SOCAT $SOCAT_PID
measure ssh $SSHL $SSH_PID $(descendants $SSHD_PID)
measure porthole $PORTHOLE $RELAY_PID $AGENT_PID $CLI_PID
# The JDK-TLS row uses a CLI on JDK TLS; relay and agent stay on their default provider (OpenSSL when present).
measure porthole-jdk-cli $PORTHOLE_JDK $RELAY_PID $AGENT_PID $CLI_JDK_PID
# shellcheck disable=SC2086
[[ -z ${KUBECTL_PID:-} ]] || measure kubectl-pf $KUBECTL_PF $KUBECTL_PID $NODE_PIDS
measure_rtt
# Correctness: the server half-closes at once while the client still sends; every byte must still arrive.
declare -A HALF
for name in "${!PORT_OF[@]}"; do
  HALF[$name]=$(bench halfclose "${PORT_OF[$name]}" "$HALF_CLOSE_BYTES")
  echo "half-close $name: ${HALF[$name]}" >&2
done

# RSS with 100 active streams through Porthole
exec 4> >(bench hold $PORTHOLE 100 > "$P/hold.out")
for _ in $(seq 1 300); do grep -q ready "$P/hold.out" 2>/dev/null && break; sleep 0.1; done
RSS100=$(( ($(kb $RELAY_PID VmRSS) + $(kb $AGENT_PID VmRSS)) / 1024 ))
exec 4>&-
RELAY_HWM=$(( $(kb $RELAY_PID VmHWM) / 1024 )); AGENT_HWM=$(( $(kb $AGENT_PID VmHWM) / 1024 ))
TLS=$(grep -o 'tls=[A-Z]*' "$P/relay.log" | head -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a" }'; }
IFS='|' read -r s1 s8 su ss sp50 sp99 <<< "${ROW[ssh]:-0|0|0|0|0|0}"
IFS='|' read -r p1 p8 pu ps pp50 pp99 <<< "${ROW[porthole]:-0|0|0|0|0|0}"
IFS='|' read -r r1 r8 ru rs rp50 rp99 <<< "${ROW[raw]:-0|0|0|0|0|0}"
echo
echo "Bulk: $((BYTES / 1048576)) MiB per run, median of $REPS runs after a $((WARMUP / 1048576)) MiB warm-up as 1 and as 8 streams;" \
  "RTT: $PINGS x 64-byte ping-pong, median of $RTT_ROUNDS rounds over all paths; CPU: user and system seconds of the path's processes (not the load generator)" \
  "per run of 1 + 8 streams; $(nproc) cores; relay/agent $TLS"
echo
echo "| path | 1 stream MB/s | 8 streams MB/s | RTT p50 µs | RTT p99 µs | CPU user s | CPU sys s | $((HALF_CLOSE_BYTES / 1048576)) MiB after server half-close |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for n in raw socat ssh porthole porthole-jdk-cli kubectl-pf; do
  [[ -n ${ROW[$n]:-} ]] || continue
  IFS='|' read -r a b e f c d <<< "${ROW[$n]}"
  echo "| $n | $a | $b | $c | $d | $e | $f | ${HALF[$n]} |"
done
echo
echo "| Porthole memory | MiB |"
echo "|---|---:|"
echo "| relay peak RSS (VmHWM) | $RELAY_HWM |"
echo "| agent peak RSS (VmHWM) | $AGENT_HWM |"
echo "| relay + agent RSS, 100 active streams | $RSS100 |"
echo
echo "Ratios (Porthole vs ssh -L): throughput 1 stream $(ratio "$p1" "$s1")x, 8 streams $(ratio "$p8" "$s8")x;" \
  "added p50 RTT over raw $((pp50 - rp50)) µs vs ssh $((sp50 - rp50)) µs = $(ratio $((pp50 - rp50)) $((sp50 - rp50)))x;" \
  "relay+agent with 100 streams ${RSS100} MiB (goal < 256)."
