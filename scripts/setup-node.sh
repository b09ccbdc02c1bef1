#!/usr/bin/env bash
# Installs what the tests' real Kubernetes node needs from Debian's packages (containerd, runc, the CNI plugins,
# iptables for kube-proxy inside the node's own network namespace) and what scripts/build-images.sh builds images
# with (umoci, debootstrap, jlink's modules), then builds CoreDNS for cluster DNS. The kubelet, kube-proxy and
# kube-scheduler come from scripts/setup-control-plane.sh; images are built by the tests, once the jars exist.
# Idempotent: quiet and fast when everything is present. Starts nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(containerd runc containernetworking-plugins iptables umoci debootstrap jq binutils gcc libc6-dev
          openjdk-17-jdk-headless openjdk-17-jmods util-linux iproute2)
BINARIES=(/usr/bin/containerd /usr/bin/ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback
          /usr/sbin/iptables /usr/bin/umoci /usr/sbin/debootstrap /usr/bin/jq /usr/bin/objcopy /usr/bin/gcc
          /usr/lib/jvm/java-17-openjdk-amd64/jmods/java.base.jmod /usr/bin/nsenter /usr/bin/unshare /sbin/ip)

missing=()
for b in "${BINARIES[@]}"; do [[ -e "$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-node.sh: missing ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
  echo "setup-node.sh: installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # containerd's package would start the system's containerd; the tests start their own, inside the node's namespaces
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
  fi
  trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
  for b in "${BINARIES[@]}"; do
    [[ -e "$b" ]] || { echo "setup-node.sh: $b still missing after install" >&2; exit 1; }
  done
fi

bash "$ROOT/scripts/build-coredns.sh"
