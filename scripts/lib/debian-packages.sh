# Sourced by the setup scripts: installs Debian packages when files they provide are missing.
# install_missing NAME TEST: NAME names the calling script in messages; TEST is the test(1) flag each entry of
# BINARIES must pass (-x for programs, -e where some entries are data files); PACKAGES lists what to install.
# Package maintainer scripts never start services here (policy-rc.d): the tests start their own.
install_missing() {
  local name=$1 test=$2 missing=() b
  for b in "${BINARIES[@]}"; do test "$test" "$b" || missing+=("$b"); done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "$name: missing ${missing[*]}; run this script as root to install them" >&2
    exit 1
  fi
  echo "$name: installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    # removed however the script ends, a failed install included
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if [[ ! -d /var/lib/apt/lists/partial || -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e partial -e lock)" ]]; then
    apt-get update -qq
  fi
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
  for b in "${BINARIES[@]}"; do
    test "$test" "$b" || { echo "$name: $b still missing after install" >&2; exit 1; }
  done
  echo "$name: done"
}
