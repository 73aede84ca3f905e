# shellcheck shell=bash
# Shared by container_test.sh and systemd_container_test.sh (sourced, not run).
#
# Gives podman a store of its own (the machine's images and containers are never touched), a
# containers.conf this sandbox accepts, and the base images the Dockerfile names, made with
# debootstrap from the Debian mirror apt already uses: no container registry is needed.
# The debootstrapped root filesystem is cached as a tarball named after the hash of its recipe
# in METRICSD_CI_CACHE (default /var/cache/metricsd-ci), outside any build tree, so only the
# first run on a machine pays for debootstrap.
#
# Callers define skip, fail and step, and set WORK (a private temporary directory) first.

CI_CACHE=${METRICSD_CI_CACHE:-/var/cache/metricsd-ci}
SUITE=bookworm
# Bump when the recipe below changes: the cached tarball's name follows it.
BASE_RECIPE="debootstrap --variant=minbase $SUITE; slimmed like debian:$SUITE-slim; v2"

container_preflight() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (rootful podman, debootstrap)"
  local tool
  for tool in podman debootstrap runc curl python3 sha256sum flock; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/dev.sh deps installs it)"
  done
}

# The Debian mirror of this machine's apt sources (one-line and deb822 formats), for $SUITE
# itself, not -security or -updates. METRICSD_DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [ -n "${METRICSD_DEBIAN_MIRROR:-}" ]; then
    echo "$METRICSD_DEBIAN_MIRROR"
    return
  fi
  python3 - "$SUITE" /etc/apt/sources.list /etc/apt/sources.list.d/* <<'EOF'
import re, sys
suite, paths = sys.argv[1], sys.argv[2:]
found = []
for path in paths:
    try:
        text = open(path).read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and suite in fields.get("suites", []) \
                    and "main" in fields.get("components", []):
                found += fields.get("uris", [])
    elif path.endswith(".list"):
        for line in text.splitlines():
            words = [w for w in line.split("#")[0].split() if not w.startswith("[")]
            if len(words) >= 4 and words[0] == "deb" and words[2] == suite and "main" in words[3:]:
                found.append(words[1])
print(found[0] if found else "http://deb.debian.org/debian")
EOF
}

# Writes $WORK/containers.conf and $WORK/storage.conf and exports them. The ulimits stay within
# what this sandbox allows (podman's defaults ask for more and runc refuses); runc because crun
# refuses a host with hybrid cgroups; the events file because there may be no journal.
podman_setup() {
  local nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
EOF
  mkdir -p "$CI_CACHE/containers"
  cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CI_CACHE/containers"
runroot = "/run/metricsd-ci-containers"
EOF
  export CONTAINERS_CONF="$WORK/containers.conf"
  export CONTAINERS_STORAGE_CONF="$WORK/storage.conf"
  podman info --format '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}' >"$WORK/podman-info" 2>&1 ||
    skip "podman does not work here: $(tail -3 "$WORK/podman-info")"
  echo "podman $(podman --version | awk '{print $3}'): $(cat "$WORK/podman-info")"
}

# What Debian's official -slim images do (debuerreotype's slimify): no documentation, manual
# pages or translations, now or from later installs, and no package lists or archives. Without
# it the image size reported here would be larger than what users get from the real base image.
slim_rootfs() {
  local root=${1:?}
  if [ ! -d "$root/etc/dpkg/dpkg.cfg.d" ] || [ "$(cd "$root" && pwd -P)" = / ]; then
    fail "slim_rootfs: $root is not a Debian root of its own"
  fi
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  # Downloaded packages never stay in a layer.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/groff/* \
    "$root"/usr/share/lintian/overrides/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
}

# Makes sure docker.io/library/debian:bookworm-slim and :bookworm exist in the store, built
# from the cached tarball (made first when missing). One caller at a time per cache.
base_images() {
  local key tarball mirror started
  key=$(printf '%s' "$BASE_RECIPE" | sha256sum | cut -c1-16)
  tarball="$CI_CACHE/debian-$SUITE-minbase-$key.tar"
  exec 8>"$CI_CACHE/base.lock"
  flock -w 900 8 || fail "another run holds $CI_CACHE/base.lock"
  if [ -f "$tarball" ] && ! (cd "$CI_CACHE" && sha256sum --quiet -c "$(basename "$tarball").sha256"); then
    echo "cached $tarball is damaged: rebuilding it"
    rm -f "$tarball" "$tarball.sha256"
  fi
  if [ ! -f "$tarball" ]; then
    mirror=$(debian_mirror)
    step "debootstrap $SUITE from $mirror (first run on this machine; cached afterwards)"
    started=$SECONDS
    rm -rf "$CI_CACHE/rootfs.tmp"
    debootstrap --variant=minbase "$SUITE" "$CI_CACHE/rootfs.tmp" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log"; rm -rf "$CI_CACHE/rootfs.tmp"; skip "debootstrap failed (no Debian mirror?)"; }
    slim_rootfs "$CI_CACHE/rootfs.tmp"
    tar --numeric-owner -C "$CI_CACHE/rootfs.tmp" -cf "$tarball.tmp" .
    rm -rf "$CI_CACHE/rootfs.tmp"
    # Tarballs of earlier recipes are never used again.
    rm -f "$CI_CACHE"/debian-"$SUITE"-minbase-*.tar "$CI_CACHE"/debian-"$SUITE"-minbase-*.tar.sha256
    mv "$tarball.tmp" "$tarball"
    (cd "$CI_CACHE" && sha256sum "$(basename "$tarball")" >"$(basename "$tarball").sha256")
    echo "debootstrap took $((SECONDS - started)) s"
  fi
  # The import is tagged with the recipe's key, so a warm store skips it.
  if ! podman image exists "localhost/metricsd-ci-base:$key"; then
    step "podman import $(basename "$tarball")"
    podman import --quiet "$tarball" "localhost/metricsd-ci-base:$key" >/dev/null
  fi
  podman tag "localhost/metricsd-ci-base:$key" docker.io/library/debian:bookworm-slim \
    docker.io/library/debian:bookworm
  flock -u 8
}

# Seconds until a URL answers 2xx, polling every 0.2 s; fails after $2 seconds.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -sf -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
