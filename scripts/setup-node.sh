#!/usr/bin/env bash
# Installs what the tests' real Kubernetes node needs from Debian's packages (containerd, runc, the CNI plugins,
# iptables for kube-proxy inside the node's own network namespace) and what scripts/build-images.sh builds images
# with (umoci, debootstrap, jlink's modules), then builds CoreDNS for cluster DNS. The kubelet, kube-proxy and
# kube-scheduler come from scripts/setup-control-plane.sh; images are built by the tests, once the jars exist.
# Idempotent: quiet and fast when everything is present. Starts nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(containerd runc containernetworking-plugins iptables umoci debootstrap jq binutils gcc libc6-dev
          openjdk-17-jdk-headless util-linux iproute2)
# bookworm's JDK package carries jlink's modules; later releases split them into openjdk-17-jmods
if apt-cache show openjdk-17-jmods >/dev/null 2>&1; then
  PACKAGES+=(openjdk-17-jmods)
fi
BINARIES=(/usr/bin/containerd /usr/bin/ctr /usr/sbin/runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback
          /usr/sbin/iptables /usr/bin/umoci /usr/sbin/debootstrap /usr/bin/jq /usr/bin/objcopy /usr/bin/gcc
          /usr/lib/jvm/java-17-openjdk-amd64/jmods/java.base.jmod /usr/bin/nsenter /usr/bin/unshare /sbin/ip)

source "$ROOT/scripts/lib/debian-packages.sh"
# -e: the jmods entry is a data file
install_missing setup-node.sh -e

bash "$ROOT/scripts/build-coredns.sh"
