#!/bin/sh
# Copies into OUT only what metricsd needs at run time, for an image built FROM scratch:
#   - metricsd's tree from TREE (as rootfs.sh lays it out): /usr/bin/metricsd, the network
#     module, /etc/metricsd (config.json, certs/), /var/lib/metricsd (mode 0750, its owner
#     kept when run as root)
#   - from this system: /bin/sh (dash, for the HEALTHCHECK's ${MC_SERVER_PORT:-8080} and the
#     Compose files' CMD-SHELL) and curl (the health probe; it reuses libcurl, which the network
#     module needs anyway), every shared library all of them link (ldd's closure) and the
#     dynamic loader, the CA roots libcurl/OpenSSL read by default
#     (/etc/ssl/certs/ca-certificates.crt), /etc/nsswitch.conf
#   - /etc/passwd and /etc/group with root and the metricsd user (from TREE), /tmp (1777).
# glibc 2.34 and later (bookworm has 2.36) has the files and dns NSS modules in libc.so.6 itself,
# so name resolution needs no libnss_*.so; the engine mounts /etc/hosts and /etc/resolv.conf.
# The Dockerfile runs this with TREE=/ in its bookworm-slim stage; CI runs it on a temporary tree.
#
# usage: minimal_rootfs.sh TREE OUT
set -eu

if [ $# -ne 2 ]; then
  echo "usage: minimal_rootfs.sh TREE OUT" >&2
  exit 2
fi
TREE=$1
OUT=$2
CA=/etc/ssl/certs/ca-certificates.crt
SH=$(readlink -f /bin/sh)
CURL=$(command -v curl) || { echo "minimal_rootfs.sh: curl is not installed" >&2; exit 1; }

mkdir -p "$OUT"

# FILE [DEST]: a regular file (links followed), its mode kept, into OUT at DEST's real directory.
copy() {
  src=$1
  dest=${2:-$1}
  dir=$(readlink -f "$(dirname "$dest")")
  mkdir -p "$OUT$dir"
  cp -L --preserve=mode "$src" "$OUT$dir/$(basename "$dest")"
}

# ELF...: each file's shared libraries and loader, as ldd resolves them here.
closure() {
  for elf in "$@"; do
    if ldd "$elf" | grep 'not found'; then
      echo "minimal_rootfs.sh: $elf needs a library that is not installed" >&2
      exit 1
    fi
    # "name => /path (addr)" and the loader's "/path (addr)"; linux-vdso has no file.
    ldd "$elf" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
  done | sort -u | while read -r lib; do
    copy "$lib"
  done
}

install -D -m 0755 "$TREE/usr/bin/metricsd" "$OUT/usr/bin/metricsd"
install -D -m 0644 "$TREE/usr/lib/metricsd/metricsd-net.so" "$OUT/usr/lib/metricsd/metricsd-net.so"
mkdir -p "$OUT/etc/metricsd"
cp -R "$TREE/etc/metricsd/." "$OUT/etc/metricsd/"
install -d -m 0750 "$OUT/var/lib/metricsd"
if [ "$(id -u)" -eq 0 ]; then
  # The owner rootfs.sh gave it (10001); COPY --from keeps it in the final image.
  chown "$(stat -c %u:%g "$TREE/var/lib/metricsd")" "$OUT/var/lib/metricsd"
fi
copy "$SH" /bin/sh
copy "$CURL"
closure "$TREE/usr/bin/metricsd" "$TREE/usr/lib/metricsd/metricsd-net.so" "$SH" "$CURL"

[ -s "$CA" ] || { echo "minimal_rootfs.sh: no $CA (ca-certificates)" >&2; exit 1; }
copy "$CA"
install -m 0644 /dev/null "$OUT/etc/nsswitch.conf"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$OUT/etc/nsswitch.conf"
for f in passwd group; do
  if [ -f "$TREE/etc/$f" ]; then
    grep -E '^(root|metricsd):' "$TREE/etc/$f" >"$OUT/etc/$f"
  else
    : >"$OUT/etc/$f"
  fi
  chmod 0644 "$OUT/etc/$f"
done
install -d -m 1777 "$OUT/tmp"

# The merged-/usr links (/bin -> usr/bin, /lib64 -> usr/lib64, ...) to what OUT holds: ELF
# interpreters (/lib64/ld-linux-x86-64.so.2) and /bin/sh are named through them.
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ] && [ -d "$OUT/$(readlink "/$d")" ]; then
    ln -sfn "$(readlink "/$d")" "$OUT/$d"
  fi
done
