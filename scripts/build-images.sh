#!/usr/bin/env bash
# Builds Porthole's container images as OCI-layout tars, reproducibly and without a registry or a container engine:
#
#   ghcr.io/porthole-dev/porthole-agent:0.1.0     jlink'd Java 17 + agent jar + netty-tcnative .so, uid 65532
#   ghcr.io/porthole-dev/porthole-operator:0.1.0  jlink'd Java 17 + operator jar + netty-tcnative .so, uid 65532
#   localhost/porthole/postgres:15                } Debian bookworm minbase with postgresql-15, redis-server,
#   localhost/porthole/redis:7                    } busybox-static and socat: one shared layer, three configs
#   localhost/porthole/tools:1                    }
#   localhost/porthole/pause:1                    a static pause binary (C, below), uid 65535
#   localhost/porthole/coredns:1                  only if $CACHE/coredns/bin/coredns exists
#
# Usage: bash scripts/build-images.sh [--root REPO_ROOT] [--only agent,operator,...] [--force]
# Needs the jars of `mvn package` (tunnel-sidecar/target/porthole-agent.jar, operator/target/porthole-operator.jar),
# root (debootstrap, chroot, umoci unpack, mount namespaces) and Debian bookworm; installs the Debian packages it
# runs when they are missing (umoci, debootstrap, jq, unzip, binutils, gcc, libc6-dev, openjdk-17-jdk-headless,
# openjdk-17-jmods). Nothing is pulled from a registry; the test targets' rootfs comes from the Debian mirror
# through debootstrap and apt, once, and is cached.
#
# Output in $CACHE/images (CACHE=${PORTHOLE_CACHE:-$HOME/.cache/porthole}):
#   <short>.tar    one OCI image layout per image; its index.json names the manifest with the annotations
#                  io.containerd.image.name=<full ref> and org.opencontainers.image.ref.name=<tag>
#                  (load into a node: ctr -n k8s.io images import <short>.tar;
#                   push: skopeo copy oci-archive:<short>.tar docker://REGISTRY/NAME:TAG)
#   images.txt     "<ref> <tar file> <manifest digest>" per image
#   <short>.stamp  sha256 of this script, the inputs (jars, binaries) and the Debian package versions used: a rerun
#                  with the same inputs keeps the tar and says "cached"
#
# Reproducible: every file's mtime is SOURCE_DATE_EPOCH (fixed below unless set), config and history carry that
# time, the layer tars come from `umoci repack` in name order with numeric owners, the layout tar from GNU tar
# --sort=name. The same inputs give the same manifest digest.
#
# The agent and operator images are checked after each build: their rootfs is bind-mounted read-only in a private
# mount namespace, with no writable directory at all, and the image's own entrypoint runs `--self-check` as uid
# 65532, which must report tls=OPENSSL with netty-tcnative mapped from /app/native (and, as a control, report
# tls=JDK when -Djava.library.path is left out, since Netty then cannot unpack the library anywhere).
set -euo pipefail

SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SCRIPT")/.." && pwd)"
ONLY=""
FORCE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --root) ROOT="$(cd "${2:?--root needs a directory}" && pwd)"; shift 2 ;;
    --root=*) ROOT="$(cd "${1#--root=}" && pwd)"; shift ;;
    --only) ONLY="${2:?--only needs names}"; shift 2 ;;
    --only=*) ONLY="${1#--only=}"; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$SCRIPT" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-images: unknown argument $1 (usage: build-images.sh [--root REPO_ROOT] [--only NAMES] [--force])" >&2; exit 2 ;;
  esac
done

CACHE="${PORTHOLE_CACHE:-$HOME/.cache/porthole}"
OUT="$CACHE/images"
WORK="$OUT/.work"
TARGETS_ROOTFS="$OUT/rootfs-targets"
COREDNS_BIN="$CACHE/coredns/bin/coredns"
JAVA_HOME="${PORTHOLE_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
MIRROR="${PORTHOLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${PORTHOLE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm
# 2025-01-01T00:00:00Z: the time of every file, config and history entry
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1735689600}"
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
VERSION=0.1.0

AGENT_JAR="$ROOT/tunnel-sidecar/target/porthole-agent.jar"
OPERATOR_JAR="$ROOT/operator/target/porthole-operator.jar"
# The modules: `jdeps --print-module-deps --ignore-missing-deps` of each jar, then trimmed or extended by what the
# process needs at run time, tried end to end (agent image, read-only, through a relay; see packaging/README.md):
# - agent (no certificate authority, so no Bouncy Castle, since the PKI moved to its own module): jdeps said
#   java.base,java.naming,java.sql,jdk.jfr,jdk.unsupported with Bouncy Castle in the jar. Left out: java.sql (only
#   Bouncy Castle's LDAP helpers used it) and jdk.jfr (Netty 4.2 turns its JFR events off when jdk.jfr is absent). Added:
#   java.xml (logback reads logback.xml with it; java.sql brought it in) and jdk.crypto.ec (the JDK's ECDSA: without
#   it the relay's EC certificate fails with "SHA256withECDSA Signature not available"). Kept: jdk.unsupported
#   (sun.misc.Unsafe, Netty's fast direct buffers), java.naming (Netty's trust-manager error messages parse
#   names with javax.naming.ldap; it brings java.logging).
# - operator: jdeps' list plus jdk.crypto.ec (EC certificates: the relay's, the API server's) and java.management;
#   java.desktop is there only for java.beans (Jackson, SnakeYAML), so its native AWT and sound libraries are left
#   out (they would need X11, freetype, ALSA, ...).
AGENT_MODULES="java.base,java.naming,java.xml,jdk.crypto.ec,jdk.unsupported"
OPERATOR_MODULES="java.base,java.compiler,java.desktop,java.management,java.naming,java.net.http,java.sql,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.unsupported"
OPERATOR_EXCLUDE="/java.desktop/lib/*.so"
# the flags of dev.porthole.sidecar.AgentJvm, no perf data file (read-only root), netty-tcnative from /app/native
AGENT_ENTRYPOINT=(/opt/java/bin/java -XX:-TieredCompilation -Xms8m -Xmx32m -XX:+UseSerialGC -Xss256k
  -XX:MaxMetaspaceSize=48m -XX:ReservedCodeCacheSize=24m -XX:MaxDirectMemorySize=64m -Dio.netty.allocator.type=pooled
  -Dio.netty.allocator.numDirectArenas=1 -Dio.netty.allocator.numHeapArenas=1 -XX:-UsePerfData
  -Djava.library.path=/app/native -jar /app/porthole-agent.jar)
# the heap follows the container's memory limit; JAVA_TOOL_OPTIONS (set by the chart) adds to this
OPERATOR_ENTRYPOINT=(/opt/java/bin/java -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData
  -Djava.library.path=/app/native -jar /app/porthole-operator.jar)

die() { echo "build-images: $*" >&2; exit 1; }
log() { echo "build-images: $*"; }
wanted() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap, chroot and umoci unpack need it)"
# the Debian packages this script runs, installed when missing (file that must exist -> package)
NEEDS=(/usr/bin/umoci:umoci /usr/bin/jq:jq /usr/sbin/debootstrap:debootstrap /usr/bin/unzip:unzip
  /usr/bin/strip:binutils /usr/bin/gcc:gcc /usr/include/stdio.h:libc6-dev "$JAVA_HOME/bin/jlink:openjdk-17-jdk-headless"
  "$JAVA_HOME/jmods/java.base.jmod:openjdk-17-jmods")
missing=()
for need in "${NEEDS[@]}"; do [[ -e ${need%:*} ]] || missing+=("${need##*:}"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
if wanted agent || wanted operator; then
  for jar in "$AGENT_JAR" "$OPERATOR_JAR"; do
    [[ -f $jar ]] || die "$jar is missing: run \`mvn -B package -DskipTests -pl tunnel-sidecar,operator -am\` in $ROOT first"
  done
fi

mkdir -p "$OUT" "$WORK"
exec 9>"$OUT/.lock"
flock -n 9 || { log "waiting for another build-images.sh on $OUT"; flock 9; }

# ---------------------------------------------------------------------------------------------------------------
# stamps: sha256 of this script, the tools' versions and what each image is made of

pkg_versions() { dpkg-query -W -f '${Package}:${Architecture}=${Version}\n' "$@" | sort -u; }
TOOLS_VERSIONS="$(pkg_versions umoci tar binutils coreutils)"
SCRIPT_SHA="$(sha256sum "$SCRIPT" | cut -d' ' -f1)"

# stamp_for PARTS...: prints the stamp of this script, SOURCE_DATE_EPOCH, the tools and PARTS
stamp_for() { printf '%s\n' "script=$SCRIPT_SHA" "epoch=$SOURCE_DATE_EPOCH" "$TOOLS_VERSIONS" "$@" | sha256sum | cut -d' ' -f1; }
# is_cached SHORT STAMP: the tar and its images.txt line were made from this stamp
is_cached() {
  [[ $FORCE -eq 0 && -f $OUT/$1.tar && -f $OUT/$1.line && -f $OUT/$1.stamp && $(cat "$OUT/$1.stamp") == "$2" ]]
}

# ---------------------------------------------------------------------------------------------------------------
# OCI assembly

# touch_tree DIR: every mtime (links too) to SOURCE_DATE_EPOCH
touch_tree() { find "$1" -depth -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

# layout_from_rootfs LAYOUT TAG ROOTFS WHAT: a new layout whose image TAG has ROOTFS as its one layer
layout_from_rootfs() {
  local layout=$1 tag=$2 rootfs=$3 what=$4 bundle="$WORK/bundle-$2"
  rm -rf "$layout" "$bundle"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
  rmdir "$bundle/rootfs"
  # a rename, not a copy: ROOTFS is a scratch tree made for this layer
  mv "$rootfs" "$bundle/rootfs"
  touch_tree "$bundle/rootfs"
  nice -n 10 umoci repack --image "$layout:$tag" --history.created "$CREATED" \
    --history.created_by "scripts/build-images.sh: $what" "$bundle"
  rm -rf "$bundle"
}

# configure LAYOUT FROM TO ARGS...: umoci config with the fixed times, FROM's config -> tag TO
configure() {
  local layout=$1 from=$2 to=$3; shift 3
  local args=(--image "$layout:$from" --created "$CREATED" --history.created "$CREATED"
    --history.created_by "scripts/build-images.sh: config" --config.label "org.opencontainers.image.created=$CREATED")
  [[ $from != "$to" ]] && args+=(--tag "$to")
  umoci config "${args[@]}" "$@"
}

# export_image LAYOUT TAG SHORT REF: $OUT/SHORT.tar holding only TAG, annotated with REF; its line for images.txt
export_image() {
  local layout=$1 tag=$2 short=$3 ref=$4 dir="$WORK/export-$3" t
  rm -rf "$dir"
  cp -al "$layout" "$dir"
  # umoci rewrites index.json: a copy, not a link to LAYOUT's
  rm -f "$dir/index.json"
  cp "$layout/index.json" "$dir/index.json"
  for t in $(umoci ls --layout "$dir"); do
    [[ $t == "$tag" ]] || umoci rm --image "$dir:$t"
  done
  umoci gc --layout "$dir"
  jq -c --arg ref "$ref" --arg tag "${ref##*:}" \
    '.manifests |= map(.annotations = {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $tag})' \
    "$dir/index.json" > "$dir/index.json.new"
  mv "$dir/index.json.new" "$dir/index.json"
  touch_tree "$dir"
  nice -n 10 tar --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode='u=rwX,go=rX' -C "$dir" -cf "$OUT/$short.tar.new" oci-layout index.json blobs
  mv "$OUT/$short.tar.new" "$OUT/$short.tar"
  echo "$ref $OUT/$short.tar $(jq -r '.manifests[0].digest' "$dir/index.json")" > "$OUT/$short.line"
  rm -rf "$dir"
}

# report SHORT SIZE_DIR_BYTES SECONDS
report() {
  local short=$1 unpacked=$2 secs=$3
  log "$short: $(cut -d' ' -f1 "$OUT/$short.line") $(cut -d' ' -f3 "$OUT/$short.line")"
  log "$short: tar $(( $(stat -c %s "$OUT/$short.tar") / 1024 )) KiB, unpacked $(( unpacked / 1024 )) KiB, built in ${secs}s"
}

# ---------------------------------------------------------------------------------------------------------------
# Java images: a jlink'd runtime, the jar, netty-tcnative's .so, and only the shared libraries these need

# owner_pkg FILE: the Debian package (name:arch) that installed FILE, trying its /usr-merged spellings
owner_pkg() {
  local f=$1 candidate
  for candidate in "$f" "/usr$f" "$(readlink -f "$f")"; do
    dpkg-query -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1,2 && return 0
  done
  die "no Debian package owns $f: the images copy shared libraries only from the host's Debian packages"
}

# java_libs_and_pkgs ROOTFS: copies the shared libraries every ELF file under ROOTFS needs (ldd's transitive
# closure, resolved on this Debian bookworm host) into ROOTFS/usr/lib/x86_64-linux-gnu; prints the packages
java_libs_and_pkgs() {
  local rootfs=$1 f line lib pkgs=() libdir="$1/usr/lib/x86_64-linux-gnu"
  local ldpath="$rootfs/opt/java/lib/server:$rootfs/opt/java/lib:$rootfs/app/native"
  mkdir -p "$libdir" "$rootfs/usr/lib64"
  ln -sfn usr/lib "$rootfs/lib"
  ln -sfn usr/lib64 "$rootfs/lib64"
  declare -A seen=()
  while IFS= read -r -d '' f; do
    [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == '177ELF' ]] || continue
    while read -r line; do
      case "$line" in
        *"not found"*) die "$f needs a library that is not on this host: $line" ;;
        *"=> /"*) lib=$(awk '{print $3}' <<<"$line") ;;
        /*) lib=$(awk '{print $1}' <<<"$line") ;;
        *) continue ;;
      esac
      [[ $lib == "$rootfs"/* || -n ${seen[$lib]:-} ]] && continue
      seen[$lib]=1
    done < <(LD_LIBRARY_PATH="$ldpath" ldd "$f" 2>/dev/null || true)
  done < <(find "$rootfs/opt/java" "$rootfs/app/native" -type f -name '*.so*' -print0; printf '%s\0' "$rootfs/opt/java/bin/java")
  for lib in "${!seen[@]}"; do
    cp -L "$lib" "$libdir/$(basename "$lib")"
    chmod 0755 "$libdir/$(basename "$lib")"
    pkgs+=("$(owner_pkg "$lib")")
  done
  # the ELF interpreter at its usual path: /lib64 -> usr/lib64 -> ../lib/x86_64-linux-gnu
  ln -sfn ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$rootfs/usr/lib64/ld-linux-x86-64.so.2"
  [[ -f $libdir/ld-linux-x86-64.so.2 ]] || die "ld-linux-x86-64.so.2 was not among the libraries"
  printf '%s\n' "${pkgs[@]}" | sort -u
}

# java_rootfs ROOTFS JAR NAME MODULES [EXCLUDE]: the rootfs of a Java image; prints the Debian packages it took
java_rootfs() {
  local rootfs=$1 jar=$2 name=$3 modules=$4 exclude=${5:-} pkg
  local args=(--module-path "$JAVA_HOME/jmods" --add-modules "$modules" --strip-debug --no-header-files
    --no-man-pages --compress=2 --output "$rootfs/opt/java")
  [[ -n $exclude ]] && args+=(--exclude-files="$exclude")
  rm -rf "$rootfs"
  mkdir -p "$rootfs/opt" "$rootfs/app/native" "$rootfs/etc" "$rootfs/home/nonroot" "$rootfs/proc" "$rootfs/sys" \
    "$rootfs/dev" "$rootfs/usr/share/doc"
  nice -n 10 "$JAVA_HOME/bin/jlink" "${args[@]}" 2> >(grep -v 'extra bytes\|attempting to process' >&2)
  # only the java launcher (jlink adds keytool, jfr); the native libraries without their symbol tables
  find "$rootfs/opt/java/bin" -type f ! -name java -delete
  find "$rootfs/opt/java/lib" -name '*.so' -exec strip --strip-unneeded {} +
  cp "$jar" "$rootfs/app/$name"
  # netty-tcnative for linux x86_64, where -Djava.library.path finds it (Netty's NativeLibraryLoader tries
  # java.library.path before unpacking META-INF/native/*.so into a temporary directory)
  unzip -q -o -j "$jar" 'META-INF/native/libnetty_tcnative_linux_x86_64.so' -d "$rootfs/app/native"
  [[ -z $(unzip -Z1 "$jar" | grep -E '^META-INF/native/.*(epoll|io_uring|kqueue)') ]] \
    || die "$jar carries a native transport: add its .so to /app/native as well"
  strip --strip-unneeded "$rootfs/app/native/"*.so
  chmod 0644 "$rootfs/app/$name"
  chmod 0755 "$rootfs/app/native/"*.so
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
    > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
  chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
  chown 65532:65532 "$rootfs/home/nonroot"
  # java.io.tmpdir exists (Netty warns at start-up when it does not); read-only in the pod unless a volume is there
  mkdir -m 1777 "$rootfs/tmp"
  java_libs_and_pkgs "$rootfs" > "$WORK/pkgs"
  echo "$(dpkg-query -S "$JAVA_HOME/jmods/java.base.jmod" | cut -d: -f1,2)" >> "$WORK/pkgs"
  # the packages' copyright files (the JDK's are in /opt/java/legal)
  for pkg in $(cut -d: -f1 "$WORK/pkgs" | sort -u); do
    [[ -f /usr/share/doc/$pkg/copyright ]] || continue
    mkdir -p "$rootfs/usr/share/doc/$pkg"
    cp "/usr/share/doc/$pkg/copyright" "$rootfs/usr/share/doc/$pkg/copyright"
  done
  # the host's copies must be what the packages shipped
  if dpkg --verify $(sort -u "$WORK/pkgs") | grep -E '/lib' >&2; then
    die "host files of $(sort -u "$WORK/pkgs" | tr '\n' ' ') differ from their packages (dpkg --verify)"
  fi
  pkg_versions $(sort -u "$WORK/pkgs")
}

# ro_run ROOTFS CMD...: CMD as uid 65532 in ROOTFS bind-mounted read-only in a private mount namespace, with
# /proc and a /dev of null, zero, random, urandom (root's tmpfs, not writable by 65532): no writable directory
ro_run() {
  local rootfs=$1 m rc=0; shift
  m=$(mktemp -d "$WORK/ro.XXXXXX")
  env -i PATH=/opt/java/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/nonroot \
    unshare --mount --propagation private /bin/sh -ec '
    r=$1; m=$2; shift 2
    mount --bind "$r" "$m"
    mount -o remount,bind,ro "$m"
    mount -t proc -o ro,nosuid,nodev,noexec proc "$m/proc"
    mount -t tmpfs -o size=64k,mode=755 tmpfs "$m/dev"
    for d in null zero random urandom; do touch "$m/dev/$d"; mount --bind "/dev/$d" "$m/dev/$d"; done
    mount -o remount,ro "$m/dev"
    exec chroot --userspec=65532:65532 "$m" "$@"
  ' sh "$rootfs" "$m" "$@" || rc=$?
  rmdir "$m"
  return $rc
}

# check_java_image SHORT ROOTFS ENTRYPOINT...: the read-only proof (see the header)
check_java_image() {
  local short=$1 rootfs=$2; shift 2
  local out without=()
  out=$(ro_run "$rootfs" "$@" --self-check 2>&1) || die "$short: --self-check failed on a read-only root: $out"
  grep -q '^tls=OPENSSL openssl=BoringSSL context=ok .*library=/app/native/libnetty_tcnative_linux_x86_64.so$' <<<"$out" \
    || die "$short: netty-tcnative not loaded from /app/native: $out"
  log "$short: read-only root, uid 65532: $(grep '^tls=' <<<"$out")"
  if grep -v '^tls=' <<<"$out" | grep -q .; then
    log "$short: the check also said:"
    grep -v '^tls=' <<<"$out" | sed 's/^/    /'
  fi
  for arg in "$@"; do [[ $arg == -Djava.library.path=* ]] || without+=("$arg"); done
  out=$(ro_run "$rootfs" "${without[@]}" --self-check 2>/dev/null | grep '^tls=' || true)
  [[ $out == tls=JDK* ]] || die "$short: without -Djava.library.path the check should fall back to JDK TLS: $out"
  log "$short: control without -Djava.library.path: $out"
}

# java_stamp SHORT JAR MODULES EXCLUDE: the jar, the modules, the JDK's package and the versions of the packages
# the last build took libraries from ($OUT/SHORT.pkgs)
java_stamp() {
  local pkgs
  pkgs=$(cat "$OUT/$1.pkgs" 2>/dev/null || true)
  stamp_for "jar=$(sha256sum "$2" | cut -d' ' -f1)" "modules=$3" "exclude=$4" \
    "$(pkg_versions "$(dpkg-query -S "$JAVA_HOME/jmods/java.base.jmod" | cut -d: -f1)" $pkgs)"
}

# java_image SHORT REF JAR JARNAME MODULES EXCLUDE ENTRYPOINT_ARRAY_NAME CONFIG_ARGS...
java_image() {
  local short=$1 ref=$2 jar=$3 name=$4 modules=$5 exclude=$6 entry_name=$7; shift 7
  local -n entry=$entry_name
  local t0=$SECONDS stamp pkgs rootfs="$WORK/rootfs-$short" arg eargs=() size
  stamp=$(java_stamp "$short" "$jar" "$modules" "$exclude")
  if is_cached "$short" "$stamp"; then
    log "$short: cached ($(cut -d' ' -f3 "$OUT/$short.line"))"
    return
  fi
  log "$short: building $ref"
  pkgs=$(java_rootfs "$rootfs" "$jar" "$name" "$modules" "$exclude")
  log "$short: runtime modules $modules; shared libraries from the host's packages: $(echo $pkgs)"
  check_java_image "$short" "$rootfs" "${entry[@]}"
  size=$(du -sb "$rootfs" | cut -f1)
  layout_from_rootfs "$WORK/layout-$short" "$short" "$rootfs" "$short rootfs (jlink runtime, $name)"
  for arg in "${entry[@]}"; do eargs+=(--config.entrypoint "$arg"); done
  configure "$WORK/layout-$short" "$short" "$short" --config.user 65532:65532 "${eargs[@]}" \
    --config.env PATH=/opt/java/bin:/usr/bin:/bin --config.env JAVA_HOME=/opt/java --config.workingdir /app \
    --config.label "org.opencontainers.image.version=$VERSION" "$@"
  export_image "$WORK/layout-$short" "$short" "$short" "$ref"
  rm -rf "$WORK/layout-$short"
  sed 's/=.*//' <<<"$pkgs" > "$OUT/$short.pkgs"
  java_stamp "$short" "$jar" "$modules" "$exclude" > "$OUT/$short.stamp"
  report "$short" "$size" $(( SECONDS - t0 ))
}

# ---------------------------------------------------------------------------------------------------------------
# test targets: one Debian bookworm minbase rootfs, cached

# in_chroot DIR CMD...: CMD in DIR as root, with its own /proc, in private mount and PID namespaces (whatever a
# maintainer script starts dies with it), services kept from starting by policy-rc.d; SOURCE_DATE_EPOCH makes
# useradd write that day, not today, as the last password change of the users it adds (/etc/shadow)
in_chroot() {
  local dir=$1; shift
  unshare --mount --propagation private --pid --fork --kill-child --mount-proc="$dir/proc" \
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$@"
}

TARGET_PACKAGES="postgresql-15 redis-server busybox-static socat"

# targets_rootfs: debootstrap --variant=minbase bookworm + TARGET_PACKAGES into $TARGETS_ROOTFS, once per recipe
targets_rootfs() {
  local dir=$TARGETS_ROOTFS tmp=$TARGETS_ROOTFS.tmp key t0=$SECONDS
  key=$(printf '%s\n' "$(declare -f targets_rootfs in_chroot)" "$MIRROR" "$SECURITY_MIRROR" "$SUITE" \
    "$TARGET_PACKAGES" | sha256sum | cut -d' ' -f1)
  if [[ -d $dir && -f $dir.recipe && $(cat "$dir.recipe") == "$key" ]]; then
    return 0
  fi
  log "targets: debootstrap --variant=minbase $SUITE + $TARGET_PACKAGES into $dir (once; a few minutes)"
  rm -rf "$tmp"
  # in a private mount namespace: the mounts debootstrap makes in the target cannot outlive it
  if ! nice -n 10 unshare --mount --propagation private debootstrap --variant=minbase --components=main "$SUITE" "$tmp" "$MIRROR" > "$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (log: $WORK/debootstrap.log)"
  fi
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" \
    "$SECURITY_MIRROR" "$SUITE" > "$tmp/etc/apt/sources.list"
  printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
  chmod 0755 "$tmp/usr/sbin/policy-rc.d"
  # No cluster at install time: the entrypoint runs initdb into the pod's data directory. After the install, LLVM
  # (postgresql-15's JIT, 130 MB with libz3) goes: the entrypoint runs postgres with jit=off.
  mkdir -p "$tmp/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' > "$tmp/etc/postgresql-common/createcluster.d/porthole.conf"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  if ! in_chroot "$tmp" sh -ec "apt-get -q update; apt-get -q -y --no-install-recommends install $TARGET_PACKAGES;
      apt-get -q -y upgrade; apt-get clean; install -d -o postgres -g postgres -m 2775 /run/postgresql;
      dpkg --force-depends --purge libllvm14 libz3-4; rm -rf /usr/lib/postgresql/15/lib/llvmjit* \
        /usr/lib/postgresql/15/lib/bitcode" \
      > "$WORK/apt.log" 2>&1; then
    tail -20 "$WORK/apt.log" >&2
    die "installing $TARGET_PACKAGES failed (log: $WORK/apt.log)"
  fi
  # what the pod's runtime provides, what only the build used, caches, logs, the generated snakeoil key
  rm -f "$tmp/usr/sbin/policy-rc.d" "$tmp/etc/ssl/private/ssl-cert-snakeoil.key" "$tmp/etc/ssl/certs/ssl-cert-snakeoil.pem" \
    "$tmp/var/cache/ldconfig/aux-cache" "$tmp"/var/lib/dpkg/*-old "$tmp"/var/cache/debconf/*-old
  : > "$tmp/etc/resolv.conf"; : > "$tmp/etc/hostname"; : > "$tmp/etc/hosts"
  rm -rf "$tmp"/dev/* "$tmp"/proc/* "$tmp"/sys/* "$tmp"/tmp/* "$tmp"/var/tmp/* "$tmp"/var/lib/apt/lists/* \
    "$tmp"/var/cache/apt/* "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/* \
    "$tmp"/root/.cache
  find "$tmp/var/log" -type f -delete
  find "$tmp/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$tmp/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$dir"
  mv "$tmp" "$dir"
  echo "$key" > "$dir.recipe"
  log "targets: rootfs ready in $(( SECONDS - t0 ))s"
}

# the postgres image's entrypoint
POSTGRES_ENTRYPOINT='#!/bin/sh
# porthole test target: initdb into $PGDATA (an emptyDir) on first start, trust for local and 127.0.0.1, then
# postgres listening on 127.0.0.1 only: only the pod'"'"'s own network namespace reaches it
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
BIN=/usr/lib/postgresql/15/bin
mkdir -p "$PGDATA"
# a volume root that this user does not own (an emptyDir is root'"'"'s, mode 0777) cannot be a data directory
if [ "$(stat -c %u "$PGDATA")" != "$(id -u)" ]; then
  PGDATA="$PGDATA/pgdata"
  echo "porthole-postgres: the data directory is $PGDATA"
fi
export PGDATA
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  "$BIN/initdb" --username="${POSTGRES_USER:-postgres}" --auth-local=trust --auth-host=trust --encoding=UTF8 \
    --no-locale --no-instructions
fi
SOCKETS=/var/run/postgresql
[ -w "$SOCKETS" ] || SOCKETS="$PGDATA"
exec "$BIN/postgres" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$SOCKETS" -c jit=off "$@"
'

targets_images() {
  local t0=$SECONDS stamp rootfs="$WORK/rootfs-targets" layout="$WORK/layout-targets" pg redis size short
  targets_rootfs
  stamp=$(stamp_for "rootfs=$(cat "$TARGETS_ROOTFS.recipe")" \
    "$(dpkg-query --admindir="$TARGETS_ROOTFS/var/lib/dpkg" -W -f '${Package}:${Architecture}=${Version}\n')")
  if is_cached postgres "$stamp" && is_cached redis "$stamp" && is_cached tools "$stamp"; then
    for short in postgres redis tools; do log "$short: cached ($(cut -d' ' -f3 "$OUT/$short.line"))"; done
    return
  fi
  log "targets: building postgres, redis and tools on one layer"
  pg=$(awk -F: '$1=="postgres" {print $3":"$4}' "$TARGETS_ROOTFS/etc/passwd")
  redis=$(awk -F: '$1=="redis" {print $3":"$4}' "$TARGETS_ROOTFS/etc/passwd")
  [[ -n $pg && -n $redis ]] || die "no postgres or redis user in $TARGETS_ROOTFS/etc/passwd"
  rm -rf "$rootfs"
  cp -a "$TARGETS_ROOTFS" "$rootfs"
  printf '%s' "$POSTGRES_ENTRYPOINT" > "$rootfs/usr/local/bin/porthole-postgres"
  chmod 0755 "$rootfs/usr/local/bin/porthole-postgres"
  for applet in nc wget httpd; do ln -sfn /bin/busybox "$rootfs/usr/local/bin/$applet"; done
  mkdir -p "$rootfs/srv/www"
  printf '<!doctype html>\n<title>porthole tools</title>\n<p>porthole test target: busybox httpd on :8080</p>\n' \
    > "$rootfs/srv/www/index.html"
  chmod 0644 "$rootfs/srv/www/index.html"
  size=$(du -sb "$rootfs" | cut -f1)
  layout_from_rootfs "$layout" base "$rootfs" "Debian $SUITE minbase + $TARGET_PACKAGES"
  configure "$layout" base postgres --config.user "$pg" --config.entrypoint /usr/local/bin/porthole-postgres \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env PGDATA=/var/lib/postgresql/data --config.exposedports 5432/tcp --config.stopsignal SIGINT \
    --config.workingdir /var/lib/postgresql --config.label org.opencontainers.image.title=porthole-postgres
  # redis 7 reads a --save with no value as --save '' (no snapshots); umoci drops an empty argument
  configure "$layout" base redis --config.user "$redis" --config.entrypoint /usr/bin/redis-server \
    --config.cmd --bind --config.cmd 127.0.0.1 --config.cmd --protected-mode --config.cmd no \
    --config.cmd --appendonly --config.cmd no --config.cmd --save \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.exposedports 6379/tcp --config.workingdir /var/lib/redis \
    --config.label org.opencontainers.image.title=porthole-redis
  # busybox httpd as the first process would ignore SIGTERM: a shell that traps it runs httpd
  configure "$layout" base tools --config.user 65534:65534 \
    --config.cmd /bin/busybox --config.cmd sh --config.cmd -c \
    --config.cmd "trap 'exit 0' TERM INT; /bin/busybox httpd -f -p 0.0.0.0:8080 -h /srv/www & wait" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.exposedports 8080/tcp --config.workingdir /srv/www \
    --config.label org.opencontainers.image.title=porthole-tools
  export_image "$layout" postgres postgres localhost/porthole/postgres:15
  export_image "$layout" redis redis localhost/porthole/redis:7
  export_image "$layout" tools tools localhost/porthole/tools:1
  rm -rf "$layout"
  for short in postgres redis tools; do
    echo "$stamp" > "$OUT/$short.stamp"
    report "$short" "$size" $(( SECONDS - t0 ))
  done
}

# ---------------------------------------------------------------------------------------------------------------
# pause and coredns: one static binary each

PAUSE_C='/* porthole pause: holds a pod'"'"'s namespaces. Sleeps in pause(), exits 0 on SIGTERM or SIGINT, reaps
 * every child that ends (as the first process of a shared PID namespace it inherits orphans). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
    (void) sig;
    _exit(0);
}

static void reap(int sig) {
    int saved = errno;
    (void) sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

int main(int argc, char **argv) {
    struct sigaction sa;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        puts("porthole pause 1");
        return 0;
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = stop;
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }
    sa.sa_handler = reap;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    if (sigaction(SIGCHLD, &sa, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }
    for (;;) {
        pause();
    }
}
'

# binary_image SHORT REF BINARY_PATH_IN_IMAGE USER STAMP_PARTS: ROOTFS is $WORK/rootfs-SHORT, already filled
binary_image() {
  local short=$1 ref=$2 path=$3 user=$4 t0=$5 stamp=$6 rootfs="$WORK/rootfs-$1" size
  size=$(du -sb "$rootfs" | cut -f1)
  layout_from_rootfs "$WORK/layout-$short" "$short" "$rootfs" "$short: static $path"
  configure "$WORK/layout-$short" "$short" "$short" --config.user "$user" --config.entrypoint "$path" \
    --config.label "org.opencontainers.image.title=porthole-$short"
  export_image "$WORK/layout-$short" "$short" "$short" "$ref"
  rm -rf "$WORK/layout-$short"
  echo "$stamp" > "$OUT/$short.stamp"
  report "$short" "$size" $(( SECONDS - t0 ))
}

pause_image() {
  local t0=$SECONDS stamp rootfs="$WORK/rootfs-pause" out
  stamp=$(stamp_for "$(pkg_versions gcc-12 libc6-dev)")
  if is_cached pause "$stamp"; then log "pause: cached ($(cut -d' ' -f3 "$OUT/pause.line"))"; return; fi
  log "pause: building localhost/porthole/pause:1"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  printf '%s' "$PAUSE_C" > "$WORK/pause.c"
  (cd "$WORK" && nice -n 10 gcc -static -Os -s -Wall -Wextra -Werror -o "$rootfs/pause" pause.c)
  chmod 0755 "$rootfs/pause"
  # it must exit 0 on SIGTERM and reap what it adopts
  "$rootfs/pause" & local pid=$!
  sleep 0.2
  kill -TERM "$pid"
  wait "$pid" || die "pause did not exit 0 on SIGTERM"
  out=$("$rootfs/pause" -v)
  [[ $out == "porthole pause 1" ]] || die "pause -v said $out"
  binary_image pause localhost/porthole/pause:1 /pause 65535:65535 "$t0" "$stamp"
}

coredns_image() {
  local t0=$SECONDS stamp rootfs="$WORK/rootfs-coredns"
  if [[ ! -x $COREDNS_BIN ]]; then
    log "coredns binary absent, skipped ($COREDNS_BIN)"
    rm -f "$OUT/coredns.line"
    return
  fi
  stamp=$(stamp_for "coredns=$(sha256sum "$COREDNS_BIN" | cut -d' ' -f1)")
  if is_cached coredns "$stamp"; then log "coredns: cached ($(cut -d' ' -f3 "$OUT/coredns.line"))"; return; fi
  log "coredns: building localhost/porthole/coredns:1 from $COREDNS_BIN"
  if LC_ALL=C readelf -l "$COREDNS_BIN" 2>/dev/null | grep -q 'INTERP'; then
    die "$COREDNS_BIN is dynamically linked; the image has nothing but /coredns (build it with CGO_ENABLED=0)"
  fi
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  cp "$COREDNS_BIN" "$rootfs/coredns"
  chmod 0755 "$rootfs/coredns"
  binary_image coredns localhost/porthole/coredns:1 /coredns 65532:65532 "$t0" "$stamp"
}

# ---------------------------------------------------------------------------------------------------------------

START=$SECONDS
wanted agent && java_image agent "ghcr.io/porthole-dev/porthole-agent:$VERSION" "$AGENT_JAR" porthole-agent.jar \
  "$AGENT_MODULES" "" AGENT_ENTRYPOINT --config.label org.opencontainers.image.title=porthole-agent
wanted operator && java_image operator "ghcr.io/porthole-dev/porthole-operator:$VERSION" "$OPERATOR_JAR" \
  porthole-operator.jar "$OPERATOR_MODULES" "$OPERATOR_EXCLUDE" OPERATOR_ENTRYPOINT \
  --config.exposedports 7443/tcp --config.exposedports 7444/tcp --config.exposedports 8080/tcp \
  --config.label org.opencontainers.image.title=porthole-operator
if wanted postgres || wanted redis || wanted tools; then targets_images; fi
wanted pause && pause_image
wanted coredns && coredns_image

: > "$OUT/images.txt.new"
for short in agent operator postgres redis tools pause coredns; do
  [[ -f $OUT/$short.line ]] && cat "$OUT/$short.line" >> "$OUT/images.txt.new"
done
mv "$OUT/images.txt.new" "$OUT/images.txt"
rm -rf "$WORK"
log "done in $(( SECONDS - START ))s; $OUT/images.txt:"
sed 's/^/  /' "$OUT/images.txt"
