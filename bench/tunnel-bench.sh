#!/usr/bin/env bash
# One-command benchmark: raw loopback vs socat vs ssh -L (aes128-gcm) vs an OpenSSH bastion relay (ssh -L to a
# bastion sshd, which carries it into an ssh -R reverse tunnel from the target side: Porthole's topology done with
# OpenSSH) vs Porthole (CLI -> relay -> agent) vs kubectl port-forward through a real kubelet and containerd (the
# project's local node; needs root).
# Prints one Markdown table. BENCH_BYTES (default 1 GiB) sets the bulk transfer size; every path is first warmed
# up with BENCH_WARMUP bytes as one and as 8 streams (the JVMs' JIT compilers finish before anything is measured),
# then measured BENCH_REPS times; the table shows medians and the path's CPU seconds per GiB moved. Request/response
# operations per second run with BENCH_OPS_CLIENTS concurrent connections each (default 8 and 64), for
# BENCH_OPS_SECONDS each, in rounds over all paths after an unmeasured round of BENCH_OPS_WARMUP_SECONDS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/target
BYTES=${BENCH_BYTES:-1073741824}
PINGS=${BENCH_PINGS:-2000}
RTT_ROUNDS=${BENCH_RTT_ROUNDS:-5}  # RTT rounds over all paths in turn, so that machine noise hits every path alike
WARMUP=${BENCH_WARMUP:-1073741824}  # bytes sent through every path, as 1 and as 8 streams, before it is measured
REPS=${BENCH_REPS:-3}
PATHS=${BENCH_PATHS:-raw socat ssh bastion porthole porthole-jdk-cli kubectl-pf}
OPS_CLIENTS=${BENCH_OPS_CLIENTS:-8 64}  # concurrent request/response connections, one table column group each
OPS_SECONDS=${BENCH_OPS_SECONDS:-5}
OPS_WARMUP_SECONDS=${BENCH_OPS_WARMUP_SECONDS:-1}  # round 0 of the ops rounds, unmeasured, at every concurrency
OPS_ROUNDS=${BENCH_OPS_ROUNDS:-1}  # ops rounds over all paths in turn; medians over rounds
OPS_REQ=${BENCH_OPS_REQ:-64} OPS_RESP=${BENCH_OPS_RESP:-256}  # request and reply bytes of one operation
HALF_CLOSE_BYTES=${BENCH_HALF_CLOSE_BYTES:-268435456}  # sent after the server half-closed; all must arrive
# Relay: C2 (a long-running server), small heap and native areas. Agent: the flags the operator injects
# (dev.porthole.sidecar.AgentJvm.JAVA_TOOL_OPTIONS). CLI: the flags of cli/kubectl-porthole, for both CLIs.
RELAY_OPTS=${RELAY_OPTS:--Xms16m -Xmx64m -Xss256k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=48m -XX:MaxDirectMemorySize=96m -XX:+UseSerialGC -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}
AGENT_OPTS=${AGENT_OPTS:--XX:-TieredCompilation -Xms8m -Xmx32m -XX:+UseSerialGC -Xss256k -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=24m -XX:MaxDirectMemorySize=64m -Dio.netty.allocator.type=pooled -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1}
CLI_OPTS=${CLI_OPTS:--XX:-TieredCompilation -Xmx64m -Xss256k -XX:+UseSerialGC -Dio.netty.allocator.type=pooled}
CLI_JDK_OPTS=${CLI_JDK_OPTS:--Xmx128m -XX:+UseSerialGC -Dio.netty.allocator.type=pooled}
SERVER=21000 SOCAT=21001 SSHL=21002 PORTHOLE=21003 PORTHOLE_JDK=21004 KUBECTL_PF=21005 SSHD=21022 RELAY_A=21443 RELAY_C=21444
BASTION=21006 BASTION_FWD=21007 BASTION_SSHD=21023  # client's ssh -L port, the reverse tunnel's port on the bastion, its sshd
NAMES=(raw socat ssh bastion porthole porthole-jdk-cli kubectl-pf)  # table order
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

# a private sshd with key-only auth for root: sshd_conf DIR PORT, then sshd_start DIR; its pid in SSHD_STARTED
sshd_conf() {
  rm -rf "$1"; mkdir -p "$1" /run/sshd; ssh-keygen -q -t ed25519 -N '' -f "$1/host_key"
  cat > "$1/sshd_config" <<CONF
Port $2
ListenAddress 127.0.0.1
HostKey $1/host_key
PidFile $1/sshd.pid
AuthorizedKeysFile $1/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
Ciphers aes128-gcm@openssh.com
CONF
}
sshd_start() { /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log" & SSHD_STARTED=$!; PIDS+=($SSHD_STARTED)
  wait_port "$(awk '$1=="Port" {print $2}' "$1/sshd_config")"; }
SSH_OPTS=(-N -c aes128-gcm@openssh.com -o Compression=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ExitOnForwardFailure=yes)

# ssh -L through a private sshd
S=$OUT/ssh; sshd_conf "$S" $SSHD
ssh-keygen -q -t ed25519 -N '' -f "$S/client_key"; cp "$S/client_key.pub" "$S/authorized_keys"; chmod 600 "$S/authorized_keys"
sshd_start "$S"; SSHD_PID=$SSHD_STARTED
ssh "${SSH_OPTS[@]}" -L $SSHL:127.0.0.1:$SERVER -p $SSHD -i "$S/client_key" root@127.0.0.1 & SSH_PID=$!; PIDS+=($SSH_PID)
wait_port $SSHL

# OpenSSH bastion relay: the target side's "agent" opens a reverse tunnel (ssh -R) to a second private sshd, the
# client an ssh -L to the same sshd and into that tunnel's port (on the bastion's loopback only: GatewayPorts no).
# The keys are restricted the way a bastion would restrict them (no shell, no pty): the agent may listen only on its
# port, the client may open only that port.
B=$OUT/bastion; sshd_conf "$B" $BASTION_SSHD
ssh-keygen -q -t ed25519 -N '' -f "$B/agent_key"; ssh-keygen -q -t ed25519 -N '' -f "$B/client_key"
{ echo "restrict,port-forwarding,permitlisten=\"$BASTION_FWD\" $(cat "$B/agent_key.pub")"
  echo "restrict,port-forwarding,permitopen=\"127.0.0.1:$BASTION_FWD\" $(cat "$B/client_key.pub")"
} > "$B/authorized_keys"; chmod 600 "$B/authorized_keys"
sshd_start "$B"; BASTION_SSHD_PID=$SSHD_STARTED
ssh "${SSH_OPTS[@]}" -R $BASTION_FWD:127.0.0.1:$SERVER -p $BASTION_SSHD -i "$B/agent_key" root@127.0.0.1 & BASTION_AGENT_PID=$!
PIDS+=($BASTION_AGENT_PID); wait_port $BASTION_FWD  # the bastion listens once the reverse tunnel is up
ssh "${SSH_OPTS[@]}" -L $BASTION:127.0.0.1:$BASTION_FWD -p $BASTION_SSHD -i "$B/client_key" root@127.0.0.1 & BASTION_CLIENT_PID=$!
PIDS+=($BASTION_CLIENT_PID); wait_port $BASTION

# Porthole: relay, agent and CLI as separate JVMs
P=$OUT/porthole; rm -rf "$P"; mkdir -p "$P"
java -jar "$ROOT/relay/target/porthole-relay.jar" demo-pki "$P" --forward bench/target --user bench --ttl 2h >/dev/null
sed -i "s/agent.port=7443/agent.port=$RELAY_A/; s/client.port=7444/client.port=$RELAY_C/" "$P/relay.properties"
echo "worker.threads=${RELAY_THREADS:-2}" >> "$P/relay.properties"
java $RELAY_OPTS -jar "$ROOT/relay/target/porthole-relay.jar" run "$P/relay.properties" > "$P/relay.log" 2>&1 & RELAY_PID=$!; PIDS+=($RELAY_PID)
wait_port $RELAY_A
PORTHOLE_RELAY_ADDRESS=localhost:$RELAY_A PORTHOLE_FORWARD=bench/target PORTHOLE_TOKEN_FILE=$P/agent-token \
PORTHOLE_CA_FILE=$P/ca.pem PORTHOLE_AGENT_CERT_FILE=$P/agent.pem PORTHOLE_AGENT_KEY_FILE=$P/agent-key.pem \
PORTHOLE_TARGET_PORT=$SERVER PORTHOLE_DEADLINE=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ) \
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
declare -A PORT_OF B1 B8 CPU RTT50 RTT99 OPS HALF
num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }
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
  B1[$name]=$(median "${ones[@]}"); B8[$name]=$(median "${eights[@]}")
  # per run of 1 + 8 streams, and per GiB moved (each run moves BYTES as one stream and BYTES as 8)
  local gib=$(( REPS * (BYTES + BYTES / 8 * 8) ))
  local per
  per=$(awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v t="$TICK" -v r="$REPS" -v g="$gib" 'BEGIN{
    printf "%.2f %.2f %.2f %.2f %.2f", u/t/r, s/t/r, (u+s)/t/(g/1073741824), u/t/(g/1073741824), s/t/(g/1073741824)}')
  local user sys total guser gsys; read -r user sys total guser gsys <<< "$per"
  CPU[$name]="$total ($guser+$gsys)"
  echo "measured $name: 1 stream ${ones[*]} MB/s, 8 streams ${eights[*]} MB/s, cpu per run user $user s sys $sys s," \
    "per GiB $total s (user $guser + sys $gsys)" >&2
}
# Round trips of small messages, measured after all bulk runs: every path once per round, medians over rounds.
measure_rtt() {
  local round name rtt
  for round in $(seq 0 "$RTT_ROUNDS"); do  # round 0 warms the small-message code paths up, unmeasured
    for name in "${NAMES[@]}"; do
      [[ -n ${PORT_OF[$name]:-} ]] || continue
      rtt=$(bench rtt "${PORT_OF[$name]}" "$PINGS" 64)
      [[ $round -gt 0 ]] || continue
      RTT50[$name]="${RTT50[$name]:-} ${rtt% *}"; RTT99[$name]="${RTT99[$name]:-} ${rtt#* }"
    done
  done
  for name in "${NAMES[@]}"; do
    [[ -n ${PORT_OF[$name]:-} ]] || continue
    echo "rtt $name: p50 ${RTT50[$name]} us, p99 ${RTT99[$name]} us" >&2
    # shellcheck disable=SC2086
    RTT50[$name]=$(median ${RTT50[$name]}); RTT99[$name]=$(median ${RTT99[$name]})
  done
}
# Request/response operations with N concurrent connections (each its own TCP connection through the path), in
# rounds like the round trips: per concurrency, every path in turn; round 0 is a short unmeasured warm-up.
measure_ops() {
  local round c name r o p50 p99
  declare -A OV O50 O99
  for round in $(seq 0 "$OPS_ROUNDS"); do
    for c in $OPS_CLIENTS; do
      for name in "${NAMES[@]}"; do
        [[ -n ${PORT_OF[$name]:-} ]] || continue
        if [[ $round -eq 0 ]]; then
          [[ $OPS_WARMUP_SECONDS == 0 ]] || bench ops "${PORT_OF[$name]}" "$c" "$OPS_WARMUP_SECONDS" "$OPS_REQ" "$OPS_RESP" \
            >/dev/null 2>>"$OUT/ops-errors.log" || true
          continue
        fi
        if ! r=$(bench ops "${PORT_OF[$name]}" "$c" "$OPS_SECONDS" "$OPS_REQ" "$OPS_RESP" 2>>"$OUT/ops-errors.log"); then
          echo "ops $name $c clients: failed (see $OUT/ops-errors.log)" >&2; continue
        fi
        read -r o p50 p99 <<< "$r"
        OV[$name/$c]="${OV[$name/$c]:-} $o"; O50[$name/$c]="${O50[$name/$c]:-} $p50"; O99[$name/$c]="${O99[$name/$c]:-} $p99"
      done
    done
  done
  for c in $OPS_CLIENTS; do
    for name in "${NAMES[@]}"; do
      [[ -n ${PORT_OF[$name]:-} ]] || continue
      if [[ -z ${OV[$name/$c]:-} ]]; then OPS[$name/$c]="failed|failed|failed"; continue; fi
      echo "ops $name $c clients: ${OV[$name/$c]} ops/s, p50 ${O50[$name/$c]} us, p99 ${O99[$name/$c]} us" >&2
      # shellcheck disable=SC2086
      OPS[$name/$c]="$(median ${OV[$name/$c]})|$(median ${O50[$name/$c]})|$(median ${O99[$name/$c]})"
    done
  done
}
rm -f "$OUT/ops-errors.log"
measure raw $SERVER
measure socat $SOCAT $SOCAT_PID
measure ssh $SSHL $SSH_PID $(descendants $SSHD_PID)
measure bastion $BASTION $BASTION_CLIENT_PID $BASTION_AGENT_PID $(descendants $BASTION_SSHD_PID)
measure porthole $PORTHOLE $RELAY_PID $AGENT_PID $CLI_PID
# The JDK-TLS row uses a CLI on JDK TLS; relay and agent stay on their default provider (OpenSSL when present).
measure porthole-jdk-cli $PORTHOLE_JDK $RELAY_PID $AGENT_PID $CLI_JDK_PID
# shellcheck disable=SC2086
[[ -z ${KUBECTL_PID:-} ]] || measure kubectl-pf $KUBECTL_PF $KUBECTL_PID $NODE_PIDS
measure_rtt
measure_ops
# Correctness: the server half-closes at once while the client still sends; every byte must still arrive.
for name in "${NAMES[@]}"; do
  [[ -n ${PORT_OF[$name]:-} ]] || continue
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

ratio() { if num "${1:-}" && num "${2:-}"; then awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "n/a" }'; else echo n/a; fi; }
added() { if num "${1:-}" && num "${2:-}"; then echo "$(($1 - $2)) µs"; else echo "n/a"; fi; }
ops_of() { local v; IFS='|' read -r -a v <<< "${OPS[$1/$2]:-||}"; echo "${v[$3]:-}"; }  # path clients field: 0 ops/s, 1 p50, 2 p99
cpu_of() { local v=${CPU[$1]:-}; echo "${v%% *}"; }
# Porthole against one peer, every column: ratios above 1 mean more throughput, more latency or more CPU than the peer
ratios() {
  local peer=$1 label=$2 c out
  out="Ratios (Porthole vs $label): throughput 1 stream $(ratio "${B1[porthole]:-}" "${B1[$peer]:-}"), 8 streams $(ratio "${B8[porthole]:-}" "${B8[$peer]:-}");"
  out="$out CPU per GiB $(ratio "$(cpu_of porthole)" "$(cpu_of "$peer")") (lower is better);"
  out="$out ops/s"; for c in $OPS_CLIENTS; do out="$out $c clients $(ratio "$(ops_of porthole "$c" 0)" "$(ops_of "$peer" "$c" 0)"),"; done
  out="${out%,}; p99"; for c in $OPS_CLIENTS; do out="$out $c clients $(ratio "$(ops_of porthole "$c" 2)" "$(ops_of "$peer" "$c" 2)"),"; done
  out="${out%,} (lower is better);"
  local pa sa; pa=$(added "${RTT50[porthole]:-}" "${RTT50[raw]:-}"); sa=$(added "${RTT50[$peer]:-}" "${RTT50[raw]:-}")
  echo "$out added p50 RTT over raw $pa vs $label $sa = $(ratio "${pa% µs}" "${sa% µs}")"
}
echo
echo "Bulk: $((BYTES / 1048576)) MiB per run, median of $REPS runs after a $((WARMUP / 1048576)) MiB warm-up as 1 and as 8 streams;" \
  "CPU: user + system seconds of the path's processes (not the load generator) per GiB moved in the bulk runs;" \
  "RTT: $PINGS x 64-byte ping-pong, median of $RTT_ROUNDS rounds over all paths;" \
  "ops: closed-loop $OPS_REQ-byte requests and $OPS_RESP-byte replies on N concurrent connections for $OPS_SECONDS s, median of $OPS_ROUNDS round(s) after a $OPS_WARMUP_SECONDS s warm-up;" \
  "$(nproc) cores; relay/agent $TLS"
echo
head="| path | 1 stream MB/s | 8 streams MB/s | CPU s/GiB (user+sys) | RTT p50 µs | RTT p99 µs |"
rule="|---|---:|---:|---:|---:|---:|"
for c in $OPS_CLIENTS; do head="$head $c clients ops/s | $c clients p50 µs | $c clients p99 µs |"; rule="$rule---:|---:|---:|"; done
echo "$head $((HALF_CLOSE_BYTES / 1048576)) MiB after server half-close |"
echo "$rule---|"
for n in "${NAMES[@]}"; do
  [[ -n ${PORT_OF[$n]:-} ]] || continue
  line="| $n | ${B1[$n]} | ${B8[$n]} | ${CPU[$n]} | ${RTT50[$n]} | ${RTT99[$n]} |"
  for c in $OPS_CLIENTS; do line="$line $(ops_of "$n" "$c" 0) | $(ops_of "$n" "$c" 1) | $(ops_of "$n" "$c" 2) |"; done
  echo "$line ${HALF[$n]} |"
done
echo
echo "| Porthole memory | MiB |"
echo "|---|---:|"
echo "| relay peak RSS (VmHWM) | $RELAY_HWM |"
echo "| agent peak RSS (VmHWM) | $AGENT_HWM |"
echo "| relay + agent RSS, 100 active streams | $RSS100 |"
echo
echo "$(ratios ssh "ssh -L"); relay+agent with 100 streams ${RSS100} MiB (goal < 256)."
echo "$(ratios bastion bastion)."
