#!/usr/bin/env bash
# Builds the .deb with CPack, installs it with dpkg, runs the installed binary with the
# installed configuration as the metricsd user, checks HEAD /health, then removes and purges
# the package and checks that nothing is left behind.
#
# usage: deb_test.sh BUILD_DIR
# Needs root and dpkg (CI runs it as root); exits 77 (skipped) otherwise. It refuses to touch a
# machine where metricsd is installed or was installed for real: it only ever removes what it
# installed itself (its marker file says so).
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
MARKER=/var/tmp/metricsd-deb-test.installed
LOCK=/var/tmp/metricsd-deb-test.lock

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i)"
for tool in dpkg dpkg-deb cpack curl python3; do
  command -v "$tool" >/dev/null || skip "$tool is not available"
done
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps (dpkg-dev) is not available"

# One run at a time on a machine (two build trees may run their ctest at once).
exec 9>"$LOCK"
flock -w 600 9 || fail "another deb_test run holds $LOCK"

installed() { dpkg-query -W -f='${Status}' metricsd 2>/dev/null | grep -qv "not-installed"; }

if [ -e "$MARKER" ]; then
  echo "removing the package left by an interrupted earlier run"
  dpkg -P metricsd >/dev/null 2>&1 || true
  rm -f "$MARKER"
fi
if installed; then
  skip "a metricsd package is installed on this machine; not touching it"
fi
if getent passwd metricsd >/dev/null || getent group metricsd >/dev/null ||
   [ -e /etc/metricsd ] || [ -e /var/lib/metricsd ]; then
  skip "a metricsd user, /etc/metricsd or /var/lib/metricsd exists; purging would destroy it"
fi

WORK=$(mktemp -d /tmp/metricsd-deb-test.XXXXXX)
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  if [ -e "$MARKER" ]; then
    dpkg -P metricsd >/dev/null 2>&1 || true
    rm -f "$MARKER"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step "cpack -G DEB"
cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log"; fail "cpack failed"; }
DEB=$(ls "$WORK"/pkg/metricsd_*.deb)
dpkg-deb -I "$DEB"
dpkg-deb -c "$DEB"
dpkg-deb -f "$DEB" Depends | grep -q "libcurl4" || fail "Depends lacks the shared libraries"

step "dpkg -i"
touch "$MARKER"
DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB"
installed || fail "dpkg does not list metricsd as installed"
for f in /usr/bin/metricsd /usr/lib/metricsd/metricsd-net.so /lib/systemd/system/metricsd.service \
         /etc/metricsd/config.json /usr/share/metricsd/prometheus/metricsd-agent.rules.yml \
         /usr/share/metricsd/prometheus/metricsd-host.rules.yml \
         /usr/share/metricsd/prometheus/node-exporter-profile.rules.yml; do
  [ -f "$f" ] || fail "$f is missing after install"
done
dpkg-query -W -f='${Conffiles}\n' metricsd | grep -q "/etc/metricsd/config.json" ||
  fail "/etc/metricsd/config.json is not a conffile"
getent passwd metricsd >/dev/null || fail "postinst did not create the metricsd user"
[ "$(stat -c %U:%G /var/lib/metricsd)" = "metricsd:metricsd" ] ||
  fail "/var/lib/metricsd is not owned by metricsd"
[ "$(stat -c %G /etc/metricsd/config.json)" = "metricsd" ] ||
  fail "/etc/metricsd/config.json is not readable by the metricsd group"
# deb-systemd-helper enables the unit even where systemd is not running (image builds).
if [ -x /usr/bin/deb-systemd-helper ]; then
  [ -L /etc/systemd/system/multi-user.target.wants/metricsd.service ] ||
    fail "postinst did not enable metricsd.service"
fi

as_metricsd() {
  if command -v setpriv >/dev/null; then
    setpriv --reuid metricsd --regid metricsd --init-groups -- "$@"
  else
    runuser -u metricsd -- "$@"
  fi
}

step "installed binary checks the installed configuration (as metricsd)"
(cd /var/lib/metricsd && as_metricsd /usr/bin/metricsd -check-config \
  -config /etc/metricsd/config.json) >"$WORK/check.out" 2>"$WORK/check.err" ||
  { cat "$WORK/check.err"; fail "-check-config rejected the installed configuration"; }
grep -q '"interval_seconds"' "$WORK/check.out" || fail "-check-config printed no configuration"

step "installed binary loads its network module for a shipping configuration (as metricsd)"
printf '%s' '{"shipper":{"type":"prometheus_remote_write","endpoint":"http://127.0.0.1:9/w"}}' \
  >"$WORK/shipping.json"
chmod 0644 "$WORK/shipping.json"
chmod 0755 "$WORK"
(cd /var/lib/metricsd && as_metricsd /usr/bin/metricsd -check-config -config "$WORK/shipping.json") \
  >"$WORK/check.out" 2>"$WORK/check.err" ||
  { cat "$WORK/check.err"; fail "-check-config of a shipping configuration failed"; }

step "installed binary serves with the installed configuration (as metricsd)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd /var/lib/metricsd && MC_SERVER_HOST=127.0.0.1 MC_SERVER_PORT=$PORT \
  exec setpriv --reuid metricsd --regid metricsd --init-groups -- \
  /usr/bin/metricsd -config /etc/metricsd/config.json) >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
deadline=$((SECONDS + 30))
until curl -sf -I "http://127.0.0.1:$PORT/health" >"$WORK/head.out"; do
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log"; fail "metricsd exited early"; }
  [ $SECONDS -lt $deadline ] || { cat "$WORK/daemon.log"; fail "HEAD /health never answered"; }
  sleep 0.2
done
head -1 "$WORK/head.out" | grep -q " 200" || fail "HEAD /health: $(head -1 "$WORK/head.out")"
curl -sf "http://127.0.0.1:$PORT/health" | grep -q '"status"' || fail "GET /health has no status"
[ "$(ps -o user= -p "$DAEMON_PID" | tr -d ' ')" = "metricsd" ] || fail "not running as metricsd"

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
[ "$rc" -eq 0 ] || { cat "$WORK/daemon.log"; fail "metricsd exited $rc after SIGTERM"; }

step "reinstalling (an upgrade) keeps a locally edited configuration"
sed -i 's/"interval_seconds": 60/"interval_seconds": 30/' /etc/metricsd/config.json
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$DEB"
grep -q '"interval_seconds": 30' /etc/metricsd/config.json || fail "the upgrade lost a local edit"
[ "$(stat -c %U:%G /var/lib/metricsd)" = "metricsd:metricsd" ] || fail "upgrade broke ownership"

step "dpkg -r keeps the configuration, removes the rest"
dpkg -r metricsd
[ ! -e /usr/bin/metricsd ] || fail "/usr/bin/metricsd survived dpkg -r"
[ ! -e /lib/systemd/system/metricsd.service ] || fail "the unit survived dpkg -r"
[ -f /etc/metricsd/config.json ] || fail "dpkg -r removed the conffile"

step "dpkg -P removes everything"
dpkg -P metricsd
rm -f "$MARKER"
! installed || fail "metricsd still known to dpkg after purge"
for p in /etc/metricsd /var/lib/metricsd /etc/systemd/system/metricsd.service \
         /etc/systemd/system/multi-user.target.wants/metricsd.service; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p survived dpkg -P"
done
! ls /var/lib/systemd/deb-systemd-helper-enabled/ 2>/dev/null | grep -q metricsd ||
  fail "deb-systemd-helper state survived dpkg -P"
! getent passwd metricsd >/dev/null || fail "the metricsd user survived dpkg -P"
! getent group metricsd >/dev/null || fail "the metricsd group survived dpkg -P"
echo "PASS"
