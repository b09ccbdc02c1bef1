#!/usr/bin/env sh
# Installs `kubectl porthole` (the CLI) for the current user: the plugin script and its jar side by side
# in a directory on PATH. Needs Java 17+. Usage, from the repository root after `mvn -pl cli -am package`:
#   packaging/kubectl-plugin/install.sh [DIR]      (default: ~/.local/bin)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$HOME/.local/bin}
jar=$root/cli/target/porthole.jar
[ -f "$jar" ] || { echo "no $jar: run 'mvn -pl cli -am package' first" >&2; exit 1; }
command -v java >/dev/null 2>&1 || { echo "kubectl porthole needs java 17 or newer on PATH" >&2; exit 1; }
mkdir -p "$dir"
install -m 0644 "$jar" "$dir/porthole.jar"
install -m 0755 "$root/cli/kubectl-porthole" "$dir/kubectl-porthole"
echo "installed $dir/kubectl-porthole; check with: kubectl plugin list && kubectl porthole --help"
case ":$PATH:" in *":$dir:"*) ;; *) echo "note: $dir is not on PATH" ;; esac
