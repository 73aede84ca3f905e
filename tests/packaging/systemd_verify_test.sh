#!/usr/bin/env bash
# `systemd-analyze verify` on deploy/systemd/metricsd.service, failing on any complaint about
# the unit (verify itself exits 0 on unknown keys and unparsable values, it only prints them).
# ExecStart is pointed at the built binary, since /usr/bin/metricsd need not exist here.
#
# usage: systemd_verify_test.sh UNIT_FILE METRICSD_BINARY
set -euo pipefail

UNIT=${1:?usage: systemd_verify_test.sh UNIT_FILE METRICSD_BINARY}
BINARY=${2:?usage: systemd_verify_test.sh UNIT_FILE METRICSD_BINARY}

command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed"; exit 77; }

WORK=$(mktemp -d /tmp/metricsd-unit-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

grep -q '^ExecStart=/usr/bin/metricsd -config /etc/metricsd/config.json$' "$UNIT" ||
  fail "ExecStart no longer runs the packaged binary with the packaged configuration"
grep -q '^Type=notify$' "$UNIT" || fail "the unit is not Type=notify"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$UNIT" || fail "ExecReload must send SIGHUP"

sed "s#^ExecStart=/usr/bin/metricsd #ExecStart=$BINARY #" "$UNIT" >"$WORK/metricsd.service"
rc=0
systemd-analyze verify "$WORK/metricsd.service" >"$WORK/out" 2>&1 || rc=$?
cat "$WORK/out"
[ "$rc" -eq 0 ] || fail "systemd-analyze verify exited $rc"
if grep -q "metricsd.service" "$WORK/out"; then
  fail "systemd-analyze verify complained about the unit"
fi

# The exposure score is informative only; offline analysis exists since systemd 250.
systemd-analyze security --offline=true "$WORK/metricsd.service" 2>/dev/null | tail -1 || true
echo "PASS"
