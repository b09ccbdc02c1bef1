#!/usr/bin/env bash
# Installs the real services and clients the data-plane tests and the benchmark drive.
# Idempotent: quiet and fast when everything is already present. Does not start system services.
set -euo pipefail

# iproute2: the e2e local pod runner gives each pod a network namespace and veth with ip(8)
PACKAGES=(postgresql redis-server redis-tools socat openssh-server openssh-client curl netcat-openbsd python3 procps iproute2)
BINARIES=(/usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_ctl /usr/bin/psql /usr/bin/redis-server
          /usr/bin/redis-cli /usr/bin/socat /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/curl /usr/bin/nc /usr/bin/python3 /sbin/ip)

missing=()
for b in "${BINARIES[@]}"; do [[ -x "$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "setup-services.sh: missing ${missing[*]}; run this script as root to install them" >&2
  exit 1
fi

echo "setup-services.sh: installing ${PACKAGES[*]}"
export DEBIAN_FRONTEND=noninteractive
# Never start services from package postinst scripts: tests start their own unprivileged servers.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT

if [[ ! -d /var/lib/apt/lists/partial || -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e partial -e lock)" ]]; then
  apt-get update -qq
fi
if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi

for b in "${BINARIES[@]}"; do
  [[ -x "$b" ]] || { echo "setup-services.sh: $b still missing after install" >&2; exit 1; }
done
echo "setup-services.sh: done"
