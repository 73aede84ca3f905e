#!/bin/sh
# Lays out metricsd's runtime file tree under DEST, as the container image holds it:
#   DEST/usr/bin/metricsd          from PREFIX/bin/metricsd (see build.sh)
#   DEST/usr/lib/metricsd/metricsd-net.so  the network module (shippers, scrapes), loaded by
#                                  metricsd only when the configuration needs it
#   DEST/etc/metricsd/config.json  deploy/config/config.json (pull mode, the embedded defaults)
#   DEST/etc/metricsd/certs/       where TLS files are mounted
#   DEST/var/lib/metricsd/         data_dir: shippers buffer unsent data here, owned by metricsd
# and, when DEST/etc/passwd exists and this runs as root, the metricsd user and group with the
# fixed id 10001 (the image says USER 10001:10001: Kubernetes' runAsNonRoot needs a number).
# The Dockerfile runs this with DEST=/ in the stage that minimal_rootfs.sh then copies from; CI
# runs it into a temporary directory.
#
# usage: rootfs.sh DEST PREFIX
set -eu

if [ $# -ne 2 ]; then
  echo "usage: rootfs.sh DEST PREFIX" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
DEST=$1
PREFIX=$2
ID=10001

# A file already in place with the same content is left alone: the Dockerfile COPYs these in
# first, and rewriting them would store them twice in the image's layers.
place() {
  if ! cmp -s "$2" "$3"; then
    install -D -m "$1" "$2" "$3"
  fi
}
place 0755 "$PREFIX/bin/metricsd" "$DEST/usr/bin/metricsd"
place 0644 "$PREFIX/lib/metricsd/metricsd-net.so" "$DEST/usr/lib/metricsd/metricsd-net.so"
place 0644 "$HERE/../config/config.json" "$DEST/etc/metricsd/config.json"
install -d -m 0755 "$DEST/etc/metricsd/certs"
install -d -m 0750 "$DEST/var/lib/metricsd"

if [ "$(id -u)" -eq 0 ] && [ -f "$DEST/etc/passwd" ]; then
  if [ "$DEST" = "/" ]; then
    set --
  else
    set -- --root "$(cd "$DEST" && pwd)"
  fi
  if ! grep -q '^metricsd:' "$DEST/etc/group"; then
    groupadd "$@" --system --gid "$ID" metricsd
  fi
  if ! grep -q '^metricsd:' "$DEST/etc/passwd"; then
    # A fixed id outside the system range (useradd warns about that): manifests and
    # volume owners on the host can name it, and it matches no user of the base image.
    useradd "$@" --system --uid "$ID" --gid "$ID" --home-dir /var/lib/metricsd \
      --no-create-home --shell /usr/sbin/nologin metricsd
  fi
  chown "$ID:$ID" "$DEST/var/lib/metricsd"
fi
