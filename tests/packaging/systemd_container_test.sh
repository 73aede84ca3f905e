#!/usr/bin/env bash
# The Debian package's unit under a real systemd: a bookworm container (the debootstrapped base
# of container_lib.sh plus systemd) with this build's .deb installed boots systemd as PID 1
# (podman run --systemd=always), then:
#   - postinst's enablement starts metricsd at boot; systemctl stop/start reaches
#     active (running) through Type=notify (READY=1 and STATUS= from metricsd);
#   - systemctl reload sends SIGHUP, logged as a reload, same main PID;
#   - under the unit's hardening nothing fails: /health and /metrics answer on its port,
#     every collector is up, the shipper's buffer is written in the StateDirectory, and the
#     journal has no EPERM/EACCES;
#   - the watchdog kills and restarts a metricsd stopped with SIGSTOP;
#   - systemctl stop ends it cleanly (status 0) within TimeoutStopSec.
# A drop-in (the one file added to the packaged unit) collects every second, ships to a closed
# loopback port so data is buffered, and shortens WatchdogSec to 6 s so the watchdog fires in
# seconds instead of 2 minutes; metricsd feeds it at a quarter of whatever it is set to.
# The container has no network (--network none): everything stays inside it.
#
# usage: systemd_container_test.sh SOURCE_DIR BUILD_DIR
# Skips (77) where podman, root or the .deb tools are missing, or where systemd cannot boot as
# PID 1 in a container on this machine (the reason and systemd's own output are printed).
set -euo pipefail

SRC=$(cd "${1:?usage: systemd_container_test.sh SOURCE_DIR BUILD_DIR}" && pwd)
BUILD_DIR=$(cd "${2:?usage: systemd_container_test.sh SOURCE_DIR BUILD_DIR}" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
fail() {
  echo "FAIL: $*" >&2
  if [ -n "${NAME:-}" ]; then
    podman exec "$NAME" journalctl -u metricsd --no-pager -n 40 >&2 2>/dev/null || true
  fi
  exit 1
}
step() { echo "== [$((SECONDS - T0)) s] $*"; }
T0=$SECONDS

WORK=$(mktemp -d /tmp/metricsd-systemd-test.XXXXXX)
# shellcheck source=tests/packaging/container_lib.sh
. "$SRC/tests/packaging/container_lib.sh"

container_preflight
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || skip "$tool is not available"
done
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps (dpkg-dev) is not available"
if ldd "$BUILD_DIR/src/metricsd" 2>/dev/null | grep -q 'libasan\|libubsan'; then
  skip "the build tree is a sanitizer build"
fi

IMAGE=localhost/metricsd-systemd:ci-test
NAME=""
cleanup() {
  if [ -n "$NAME" ]; then
    podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

podman_setup
base_images

step "cpack -G DEB"
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; fail "cpack failed"; }
mkdir "$WORK/image"
cp "$WORK"/pkg/metricsd_*.deb "$WORK/image/metricsd.deb"
# The package's dependencies go into the cached systemd layer; the .deb itself is COPYed (content
# hashed, so a new build is never hidden by a cached layer) and installed offline.
depends=$(dpkg-deb -f "$WORK/image/metricsd.deb" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g')
cat >"$WORK/image/Containerfile" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
ARG DEPENDS
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      systemd systemd-sysv dbus curl $DEPENDS \
 && rm -rf /var/lib/apt/lists/*
COPY metricsd.deb /tmp/metricsd.deb
RUN dpkg -i /tmp/metricsd.deb && rm /tmp/metricsd.deb
COPY test.conf /etc/systemd/system/metricsd.service.d/test.conf
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
EOF
cat >"$WORK/image/test.conf" <<'EOF'
[Service]
Environment=MC_COLLECTOR_INTERVAL=1
Environment=MC_SHIPPER_TYPE=prometheus_remote_write
Environment=MC_SHIPPER_ENDPOINT=http://127.0.0.1:9/api/v1/write
WatchdogSec=6s
EOF

step "podman build (systemd + the .deb)"
started=$SECONDS
podman build --pull=never --format docker --build-arg DEPENDS="$depends" -t "$IMAGE" "$WORK/image" \
  >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; fail "podman build failed"; }
echo "built in $((SECONDS - started)) s"

step "boot systemd as PID 1 (podman run --systemd=always)"
NAME=metricsd-ci-systemd-$$
if ! podman run -d --name "$NAME" --systemd=always --network none "$IMAGE" >"$WORK/run.out" 2>&1; then
  cat "$WORK/run.out"
  skip "podman cannot start a systemd container on this machine (output above)"
fi
state=""
deadline=$((SECONDS + 60))
while :; do
  state=$(podman exec "$NAME" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running | degraded) break ;; esac
  if [ "$(podman inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" != true ] ||
     [ $SECONDS -ge $deadline ]; then
    podman logs "$NAME" 2>&1 | tail -30
    podman inspect --format 'exit code {{.State.ExitCode}} {{.State.Error}}' "$NAME" 2>&1 || true
    skip "systemd did not boot as PID 1 in a container here (state '${state:-none}', output above)"
  fi
  sleep 0.5
done
echo "systemd $(podman exec "$NAME" systemctl --version | head -1 | awk '{print $2}') is PID 1: $state"
if [ "$state" = degraded ]; then
  podman exec "$NAME" systemctl --failed --no-pager || true
fi

sx() { podman exec "$NAME" "$@"; }
# The unit's journal as a file (grep -q on a pipe would break it under pipefail).
journal() { sx journalctl --no-pager -o cat -u metricsd >"$WORK/journal" 2>&1 || true; }
prop() { sx systemctl show metricsd -p "$1" --value; }
wait_active() {
  local deadline=$((SECONDS + $1))
  until [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; do
    [ $SECONDS -lt $deadline ] || fail "metricsd is not active (running): $(prop ActiveState)/$(prop SubState)"
    sleep 0.2
  done
}

step "postinst enabled the unit: it started at boot"
[ "$(sx systemctl is-enabled metricsd)" = enabled ] || fail "metricsd.service is not enabled"
wait_active 30

step "systemctl stop; systemctl start reaches active (running) through Type=notify"
sx systemctl stop metricsd
[ "$(prop ActiveState)" = inactive ] || fail "still $(prop ActiveState) after systemctl stop"
sx systemctl start metricsd || fail "systemctl start failed"
# Type=notify: systemctl start returns only after READY=1, so it is running right away.
[ "$(prop Type)" = notify ] || fail "Type is $(prop Type)"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] ||
  fail "right after systemctl start: $(prop ActiveState)/$(prop SubState)"
sx systemctl status metricsd --no-pager >"$WORK/status" || true
head -8 "$WORK/status"
status_text=$(prop StatusText)
[ -n "$status_text" ] || fail "no STATUS= from metricsd"
echo "StatusText: $status_text; WatchdogUSec: $(prop WatchdogUSec)"

step "hardening: port, /proc, /sys and the state directory work; no EPERM"
sx curl -sf -o /dev/null -I http://127.0.0.1:8080/health || fail "HEAD /health failed"
deadline=$((SECONDS + 30))
until sx sh -c 'ls /var/lib/metricsd/default/*.wal' >/dev/null 2>&1 &&
      [ "$(sx curl -sf http://127.0.0.1:8080/metrics | grep -c '^metricsd_shipper_queue_samples{.*} [1-9]')" = 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "nothing was buffered under /var/lib/metricsd"
  sleep 0.5
done
sx curl -sf http://127.0.0.1:8080/metrics >"$WORK/metrics.txt"
grep '^metricsd_collector_up' "$WORK/metrics.txt"
if grep -q '^metricsd_collector_up{.*} 0' "$WORK/metrics.txt"; then
  fail "a collector is down under the unit's sandbox"
fi
grep -q '^system_cpu_count [1-9]' "$WORK/metrics.txt" || fail "no CPU count (/proc unreadable?)"
grep -q '^system_network_bytes_recv_total{interface="lo"}' "$WORK/metrics.txt" ||
  fail "no network counters (/sys or /proc/net unreadable?)"
sx ls -ln /var/lib/metricsd/default
[ "$(sx stat -c %U /var/lib/metricsd/default)" = metricsd ] || fail "the buffer is not metricsd's"
pid=$(prop MainPID)
sx grep -E '^(NoNewPrivs|Seccomp|CapEff):' "/proc/$pid/status" | tr -s '\t' ' ' >"$WORK/sandbox"
cat "$WORK/sandbox"
for want in "NoNewPrivs: 1" "Seccomp: 2" "CapEff: 0000000000000000"; do
  grep -q "$want" "$WORK/sandbox" || fail "the unit's sandbox is not applied (no $want)"
done
# What systemd could not apply inside a container is printed, not hidden.
journal
grep -i "ignoring\|prohibited" "$WORK/journal" | sort -u || true

step "systemctl reload: SIGHUP, logged as a reload, same process"
pid=$(prop MainPID)
sx systemctl reload metricsd || fail "systemctl reload failed"
deadline=$((SECONDS + 15))
until journal && grep -q "configuration reloaded from" "$WORK/journal"; do
  [ $SECONDS -lt $deadline ] || fail "no reload in the journal"
  sleep 0.2
done
grep -E "SIGHUP|reloaded from|Reload" "$WORK/journal" | tail -4
[ "$(prop MainPID)" = "$pid" ] || fail "reload changed the main PID"
wait_active 10

step "watchdog: a metricsd stopped with SIGSTOP is killed and restarted"
restarts=$(prop NRestarts)
sx kill -STOP "$pid"
deadline=$((SECONDS + 60))
until [ "$(prop NRestarts)" -gt "$restarts" ] && [ "$(prop MainPID)" != "$pid" ] &&
      [ "$(prop ActiveState)/$(prop SubState)" = active/running ]; do
  [ $SECONDS -lt $deadline ] || fail "no watchdog restart within 60 s"
  sleep 0.5
done
journal
grep -i -E "watchdog|Scheduled restart" "$WORK/journal" | tail -3
echo "restarted: PID $pid -> $(prop MainPID), NRestarts $(prop NRestarts)"

journal
if grep -i -E "operation not permitted|permission denied|EPERM|EACCES" "$WORK/journal"; then
  fail "EPERM/EACCES in metricsd's journal (above)"
fi

step "systemctl stop is clean"
stop_timeout=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$SRC/deploy/systemd/metricsd.service")
started=$SECONDS
sx systemctl stop metricsd || fail "systemctl stop failed"
echo "stopped in $((SECONDS - started)) s (TimeoutStopSec=${stop_timeout}s)"
[ $((SECONDS - started)) -lt "$stop_timeout" ] || fail "stop took longer than TimeoutStopSec"
[ "$(prop Result)" = success ] || fail "Result=$(prop Result) after stop"
[ "$(prop ExecMainStatus)" = 0 ] || fail "exit status $(prop ExecMainStatus) after SIGTERM"
journal
tail -3 "$WORK/journal"

step "PASS"
