#!/usr/bin/env bash
# Installs the real services and clients the data-plane tests and the benchmark drive.
# Idempotent: quiet and fast when everything is already present. Does not start system services.
set -euo pipefail

PACKAGES=(postgresql redis-server redis-tools socat openssh-server openssh-client curl netcat-openbsd python3 procps)
BINARIES=(/usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_ctl /usr/bin/psql /usr/bin/redis-server
          /usr/bin/redis-cli /usr/bin/socat /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen /usr/bin/curl /usr/bin/nc /usr/bin/python3)

source "$(dirname "${BASH_SOURCE[0]}")/lib/debian-packages.sh"
install_missing setup-services.sh -x
