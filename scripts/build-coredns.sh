#!/usr/bin/env bash
# Builds CoreDNS, the test cluster's DNS, from the pinned Go module in test-cluster/coredns (upstream
# CoreDNS with only the plugins a cluster DNS needs; see its main.go) into a cache outside the work tree:
#   $PORTHOLE_CACHE/coredns/bin/coredns
# Reuses what is already there. Nothing is fetched but Go modules, through the Go toolchain, verified by go.sum.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE="$ROOT/test-cluster/coredns"
COREDNS_VERSION="$(awk '$1=="require" {$1=""; $0=$0} $1=="github.com/coredns/coredns" {print $2; exit}' "$MODULE/go.mod")"
CACHE="${PORTHOLE_CACHE:-$HOME/.cache/porthole}"
BIN_DIR="$CACHE/coredns/bin"
STAMP="$BIN_DIR/.built-from"
WANT_STAMP="$(cat "$MODULE/go.mod" "$MODULE/go.sum" "$MODULE/main.go" | sha256sum | cut -d' ' -f1)"

if [[ -f "$STAMP" && -x "$BIN_DIR/coredns" && "$(cat "$STAMP")" == "$WANT_STAMP" ]]; then
  echo "coredns: cached in $BIN_DIR (CoreDNS $COREDNS_VERSION)"
  exit 0
fi

command -v go >/dev/null || { echo "build-coredns: the Go toolchain is required (go version)" >&2; exit 1; }
echo "coredns: building CoreDNS $COREDNS_VERSION into $BIN_DIR"
mkdir -p "$BIN_DIR"
start=$(date +%s)
cd "$MODULE"
GOFLAGS=-mod=readonly CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/coredns.tmp" .
mv "$BIN_DIR/coredns.tmp" "$BIN_DIR/coredns"
echo "$WANT_STAMP" > "$STAMP"
echo "coredns: built in $(( $(date +%s) - start ))s"
