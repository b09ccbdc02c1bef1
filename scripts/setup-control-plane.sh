#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and a node's kubelet and
# kube-proxy from the pinned Go module in
# test-cluster/go into a cache outside the work tree, laid out as Fabric8's kube-api-test expects:
#   $PORTHOLE_CACHE/kube-api-test/k8s/<version>-linux-amd64/{kube-apiserver,etcd,kubectl,kube-controller-manager,...}
# Reuses what is already there. Nothing is fetched but Go modules, through the Go toolchain, verified by go.sum.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE="$ROOT/test-cluster/go"
K8S_VERSION="$(awk '$1=="k8s.io/kubernetes" {sub(/^v/,"",$2); print $2; exit}' "$MODULE/go.mod")"
CACHE="${PORTHOLE_CACHE:-$HOME/.cache/porthole}"
BIN_DIR="$CACHE/kube-api-test/k8s/${K8S_VERSION}-linux-amd64"
STAMP="$BIN_DIR/.built-from"
WANT_STAMP="$(cat "$MODULE/go.mod" "$MODULE/go.sum" "$MODULE"/cmd/*/main.go | sha256sum | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT_STAMP" ]]; then
  echo "control plane binaries: cached in $BIN_DIR (Kubernetes v$K8S_VERSION)"
  exit 0
fi

command -v go >/dev/null || { echo "setup-control-plane: the Go toolchain is required (go version)" >&2; exit 1; }
echo "control plane binaries: building Kubernetes v$K8S_VERSION and etcd into $BIN_DIR"
echo "  (first build takes about 10-15 minutes on 2 cores; later runs reuse the cache)"
mkdir -p "$BIN_DIR"
start=$(date +%s)
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} \
 -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*} \
 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) \
 -X k8s.io/client-go/pkg/version.gitVersion=v${K8S_VERSION} \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
cd "$MODULE"
for cmd in etcd kubectl kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  t0=$(date +%s)
  echo "  building $cmd ..."
  GOFLAGS=-mod=readonly CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "$LDFLAGS" -o "$BIN_DIR/$cmd.tmp" "./cmd/$cmd"
  mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd"
  echo "  built $cmd in $(( $(date +%s) - t0 ))s"
done
echo "$WANT_STAMP" > "$STAMP"
echo "control plane binaries: built in $(( $(date +%s) - start ))s"
