#!/usr/bin/env bash
# The operator at scale (issue: 1,000 forwards): SCALE_FORWARDS forwards applied at SCALE_RATE per second with a TTL
# of SCALE_TTL seconds on the project's own control plane, audited; prints one Markdown table (apply→Active,
# expiresAt→deleted, API requests per forward, operator peak RSS). No node or agent is involved.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/target
FORWARDS=${SCALE_FORWARDS:-1000}
RATE=${SCALE_RATE:-20}
TTL=${SCALE_TTL:-120}
mkdir -p "$OUT"
bash "$ROOT/scripts/setup-control-plane.sh" >/dev/null
(cd "$ROOT" && mvn -q -B -ntp -pl e2e -am install -DskipTests \
  && mvn -q -B -ntp -pl e2e dependency:build-classpath -Dmdep.outputFile="$OUT/e2e.classpath" -Dmdep.includeScope=runtime)
cd "$ROOT/e2e"
exec java -Xmx512m -Dlogback.configurationFile=porthole-demo-logback.xml \
  -cp "$ROOT/e2e/target/classes:$(cat "$OUT/e2e.classpath")" dev.porthole.e2e.ScaleBench "$OUT/scale" "$FORWARDS" "$RATE" "$TTL"
