#!/usr/bin/env bash
# The container image on a real engine (rootful podman, no registry):
#   1. builds deploy/docker/Dockerfile as it is, its builder stage replaced by this build tree's
#      binary and module (--build-context builder=DIR, laid out as build.sh would), so the
#      runtime stage users get is the one tested, without a second full compile;
#   2. runs it as docs/deployment.md's host-metrics recipe (host /proc, /sys and / read-only,
#      HOST_PROC/HOST_SYS/HOST_ROOT, uid 10001, read-only root, no capabilities, host network
#      and PID namespaces), serving on 127.0.0.1 only;
#   3. podman healthcheck run (the image's HEALTHCHECK, kept by --format docker);
#   4. /metrics has the host's CPU count, root filesystem and network interfaces;
#   5. remote write from the container lands in a Prometheus on the host's loopback;
#   6. with the receiver gone, podman stop (SIGTERM) exits 0 within the unit's TimeoutStopSec and
#      the buffer stays in the mounted volume; a new container on that volume delivers it;
#   7. prints the image size (FROM scratch: fails over 35 MB);
#   8. runs both Compose files' service with every setting in them (compose_podman_args.py).
#
# usage: container_test.sh SOURCE_DIR METRICSD_BINARY METRICSD_NET_MODULE
# Needs root, podman, runc, debootstrap (first run only: ~2 min, then cached, see
# container_lib.sh) and prometheus; exits 77 (skipped) without them.
set -euo pipefail

SRC=$(cd "${1:?usage: container_test.sh SOURCE_DIR METRICSD_BINARY METRICSD_NET_MODULE}" && pwd)
BINARY=${2:?}
MODULE=${3:?}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; [ -n "${NAME:-}" ] && podman logs --tail 30 "$NAME" >&2 2>/dev/null; exit 1; }
step() { echo "== [$((SECONDS - T0)) s] $*"; }
T0=$SECONDS

WORK=$(mktemp -d /tmp/metricsd-container-test.XXXXXX)
# shellcheck source=tests/packaging/container_lib.sh
. "$SRC/tests/packaging/container_lib.sh"

container_preflight
command -v prometheus >/dev/null || skip "prometheus (the remote-write receiver) is not installed"
# Sanitizer builds need runtimes the image does not have.
if ldd "$BINARY" | grep -q 'libasan\|libubsan'; then
  skip "$BINARY is a sanitizer build"
fi

IMAGE=localhost/metricsd:ci-test
PREFIX=metricsd-ci-$$
NAME=""
PROM_PID=""
CONTAINERS=()
VOLUMES=()
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do
    podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  if [ -n "$PROM_PID" ]; then
    kill "$PROM_PID" 2>/dev/null || true
    wait "$PROM_PID" 2>/dev/null || true
  fi
  for c in "${VOLUMES[@]}"; do
    podman volume rm -f "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

podman_setup
base_images

step "podman build (deploy/docker/Dockerfile, builder stage = this build tree)"
install -D -m 0755 "$BINARY" "$WORK/builder/out/usr/bin/metricsd"
install -D -m 0644 "$MODULE" "$WORK/builder/out/usr/lib/metricsd/metricsd-net.so"
strip "$WORK/builder/out/usr/bin/metricsd" "$WORK/builder/out/usr/lib/metricsd/metricsd-net.so"
started=$SECONDS
podman build --pull=never --format docker --build-context builder="$WORK/builder" \
  -f "$SRC/deploy/docker/Dockerfile" -t "$IMAGE" -t localhost/metricsd:latest "$SRC" \
  >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "podman build failed"; }
echo "built in $((SECONDS - started)) s"
# Layers are cached: the image must hold this build's binary, not a previous one's.
want=$(sha256sum <"$WORK/builder/out/usr/bin/metricsd" | cut -d' ' -f1)
# The image has no sha256sum (FROM scratch): its files are read from the host.
mnt=$(podman image mount "$IMAGE") || fail "podman image mount failed"
have=$(sha256sum <"$mnt/usr/bin/metricsd" | cut -d' ' -f1)
# The data directory's owner and mode, as COPY --from carried them into the scratch stage.
data_dir=$(stat -c '%u:%g %a' "$mnt/var/lib/metricsd")
podman image unmount "$IMAGE" >/dev/null
[ "$want" = "$have" ] || fail "the image's /usr/bin/metricsd is not this build's ($have != $want)"
[ "$data_dir" = "10001:10001 750" ] ||
  fail "the image's /var/lib/metricsd is $data_dir, not 10001:10001 750"
[ "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = "10001:10001" ] ||
  fail "the image's USER is not 10001:10001"
podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" | grep -q '/health' ||
  fail "the image lost its HEALTHCHECK (built without --format docker?)"

step "image size"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
gz=$(podman save --format docker-archive "$IMAGE" 2>/dev/null | gzip -1 -c | wc -c)
awk -v s="$size" -v g="$gz" 'BEGIN {
  printf "IMAGE SIZE: %.1f MB (%.1f MB gzip -1 compressed, about what a pull moves); FROM scratch, no base image\n", s / 1e6, g / 1e6 }'
podman history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | grep -v '^0 B' | cut -c1-110
# About 28 MB FROM scratch (docs/deployment.md): a base system creeping back in fails here.
[ "$size" -le 35000000 ] || fail "the image is $((size / 1000000)) MB, over the 35 MB ceiling"

step "prometheus on 127.0.0.1 (remote-write receiver)"
PROM_PORT=$(free_port)
printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom.yml"
start_prometheus() {
  prometheus --config.file="$WORK/prom.yml" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --storage.tsdb.path="$WORK/tsdb" --web.enable-remote-write-receiver >>"$WORK/prom.log" 2>&1 &
  PROM_PID=$!
  wait_http "http://127.0.0.1:$PROM_PORT/-/ready" 60 || { tail "$WORK/prom.log"; fail "prometheus never got ready"; }
}
stop_prometheus() {
  kill "$PROM_PID"
  wait "$PROM_PID" 2>/dev/null || true
  PROM_PID=""
}
start_prometheus
prom_query() {
  curl -sf --get --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

# The host-metrics recipe of docs/deployment.md, on a loopback port, shipping every second.
PORT=$(free_port)
mkdir -p "$WORK/data"
chown 10001:10001 "$WORK/data"
run_host_container() {
  NAME=$1
  CONTAINERS+=("$NAME")
  podman run -d --name "$NAME" --pid host --network host --read-only --cap-drop ALL \
    --security-opt no-new-privileges \
    -v /proc:/host/proc:ro -v /sys:/host/sys:ro -v /:/rootfs:ro,rslave \
    -e HOST_PROC=/host/proc -e HOST_SYS=/host/sys -e HOST_ROOT=/rootfs \
    -v "$WORK/data:/var/lib/metricsd" \
    -e MC_SERVER_HOST=127.0.0.1 -e MC_SERVER_PORT="$PORT" -e MC_COLLECTOR_INTERVAL=1 \
    -e MC_SHIPPER_TYPE=prometheus_remote_write \
    -e MC_SHIPPER_ENDPOINT="http://127.0.0.1:$PROM_PORT/api/v1/write" \
    "$IMAGE" >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err"; fail "podman run failed"; }
  wait_http "http://127.0.0.1:$PORT/ready" 30 || fail "$NAME: /ready never answered 200"
}
step "podman run: host-metrics recipe"
run_host_container "$PREFIX-host"
pid=$(podman inspect --format '{{.State.Pid}}' "$NAME")
[ "$(stat -c %u "/proc/$pid")" = 10001 ] || fail "metricsd (PID $pid on the host) does not run as uid 10001"
echo "metricsd is PID $pid on the host, uid $(stat -c %u "/proc/$pid")"

step "podman healthcheck run"
podman healthcheck run "$NAME" 2>"$WORK/hc.err" || { cat "$WORK/hc.err"; fail "the HEALTHCHECK failed"; }
echo "healthy"

step "/metrics reports the host"
# Interfaces come and go on a shared machine (other containers' veths): a few tries, a tick apart.
cat >"$WORK/host_check.py" <<'PY'
import os, re, sys
text = open(sys.argv[1]).read()
def series(name):
    return re.findall(r"^%s\{([^}]*)\} (\S+)$" % name, text, re.M)
ok = True
def check(cond, what):
    global ok
    print(("ok    " if cond else "WRONG ") + what)
    ok &= cond
cpus = sum(1 for l in open("/proc/stat") if re.match(r"cpu\d+ ", l))
got = re.search(r"^system_cpu_count (\S+)$", text, re.M)
check(got and int(float(got.group(1))) == cpus, f"system_cpu_count {got and got.group(1)} = host /proc/stat CPUs {cpus}")
st = os.statvfs("/")
root_fstype = [l.split()[2] for l in open("/proc/self/mounts") if l.split()[1] == "/"][-1]
roots = [(l, v) for l, v in series("system_disk_total_bytes") if 'mountpoint="/"' in l]
check(len(roots) == 1 and float(roots[0][1]) == st.f_blocks * st.f_frsize,
      f"root filesystem total {roots and roots[0][1]} = host statvfs('/') {st.f_blocks * st.f_frsize}")
check(len(roots) == 1 and f'fstype="{root_fstype}"' in roots[0][0],
      f"root filesystem {roots and roots[0][0]} is the host's {root_fstype}, not overlay")
host_ifaces = {l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]}
got_ifaces = {re.search(r'interface="([^"]*)"', l).group(1) for l, _ in series("system_network_bytes_recv_total")}
check(got_ifaces == host_ifaces, f"interfaces {sorted(got_ifaces)} = host /proc/net/dev {sorted(host_ifaces)}")
sys.exit(0 if ok else 1)
PY
host_ok=0
for _ in 1 2 3 4 5; do
  curl -sf "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"
  if python3 "$WORK/host_check.py" "$WORK/metrics.txt"; then
    host_ok=1
    break
  fi
  sleep 1.1
done
[ "$host_ok" = 1 ] || fail "/metrics does not describe the host"
podman logs "$NAME" >"$WORK/container.log" 2>&1
grep -m1 "HOST_PROC" "$WORK/container.log" || fail "the log does not say it reads the host"

step "remote write from the container reaches prometheus on the host"
cpus=$(grep -c '^cpu[0-9]' /proc/stat)
deadline=$((SECONDS + 30))
until [ "$(prom_query 'system_cpu_count')" = "$cpus" ]; do
  [ $SECONDS -lt $deadline ] || fail "system_cpu_count never arrived in prometheus"
  sleep 0.5
done
echo "prometheus has system_cpu_count = $cpus"

step "receiver down: data buffered in the volume; podman stop (SIGTERM)"
stop_prometheus
metric() { curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
deadline=$((SECONDS + 30))
until [ "$(metric 'metricsd_shipper_queue_samples{shipper="default"}')" -gt 0 ] 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "nothing was queued while prometheus was down"
  sleep 0.5
done
stop_timeout=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$SRC/deploy/systemd/metricsd.service")
[ -n "$stop_timeout" ] || fail "no TimeoutStopSec=Ns in the unit"
started=$(date +%s%N)
podman stop -t "$stop_timeout" "$NAME" >/dev/null 2>"$WORK/stop.err"
elapsed=$(awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
code=$(podman inspect --format '{{.State.ExitCode}}' "$NAME")
printf 'podman stop: exit code %s after %.2f s (TimeoutStopSec=%ss)\n' "$code" "$elapsed" "$stop_timeout"
[ "$code" = 0 ] || fail "metricsd exited $code on SIGTERM"
awk -v e="$elapsed" -v t="$stop_timeout" 'BEGIN { exit !(e < t) }' || fail "stopping took longer than TimeoutStopSec"
find "$WORK/data" -type f -name '*.wal' -size +0 -user 10001 | grep -q . ||
  fail "no buffer (*.wal owned by 10001) in the mounted volume"
ls -ln "$WORK"/data/*/

step "the buffer survives: a new container on the same volume delivers it"
start_prometheus
run_host_container "$PREFIX-host2"
deadline=$((SECONDS + 60))
until [ "$(metric 'metricsd_shipper_queue_samples{shipper="default"}')" = 0 ] &&
      [ "$(metric 'metricsd_shipper_samples_sent_total{shipper="default"}')" != 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "the buffered data was not delivered"
  sleep 0.5
done
podman logs "$NAME" >"$WORK/container.log" 2>&1
grep -i -m2 "recover\|buffer" "$WORK/container.log" || true
podman stop -t "$stop_timeout" "$NAME" >/dev/null
[ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ] || fail "second stop not clean"
NAME=""

# A Compose file's service run with every one of its settings (compose_podman_args.py; see
# there for podman-compose 1.0.3 and for the few changes made), then checked like the image.
compose_check() {
  local file=$1 port ctr args=()
  port=$(free_port)
  ctr=$PREFIX-${file%.yml}
  mapfile -t args < <(python3 "$SRC/tests/packaging/compose_podman_args.py" \
    "$SRC/deploy/docker/$file" metricsd "$ctr" "$port" "$SRC/deploy/config/config.json")
  [ ${#args[@]} -gt 0 ] || fail "$file could not be translated"
  echo "podman run ${args[*]}"
  CONTAINERS+=("$ctr")
  podman run "${args[@]}" >/dev/null 2>"$WORK/run.err" || { cat "$WORK/run.err"; fail "$file: podman run failed"; }
  VOLUMES+=("$ctr-metricsd-data")
  wait_http "http://127.0.0.1:$port/ready" 30 || { NAME=$ctr; fail "$file: /ready never answered 200"; }
  podman healthcheck run "$ctr" 2>/dev/null || { NAME=$ctr; fail "$file: the health check failed"; }
  podman inspect --format 'read_only={{.HostConfig.ReadonlyRootfs}} cap_drop={{.HostConfig.CapDrop}} security_opt={{.HostConfig.SecurityOpt}} user={{.Config.User}} restart={{.HostConfig.RestartPolicy.Name}} pid={{.HostConfig.PidMode}} network={{.HostConfig.NetworkMode}}' "$ctr"
  podman stop -t 30 "$ctr" >/dev/null
  [ "$(podman inspect --format '{{.State.ExitCode}}' "$ctr")" = 0 ] || fail "$file: stop was not clean"
  echo "$file: running, healthy, /ready on 127.0.0.1:$port, clean stop"
}
python3 -c "import yaml" 2>/dev/null ||
  skip "python3-yaml is needed to read the Compose files"
step "compose.host.yml, run with its settings"
compose_check compose.host.yml
step "compose.yml, run with its settings"
compose_check compose.yml

# podman-compose itself runs compose.yml (not compose.host.yml: see compose_podman_args.py),
# from a copy with the same three changes: no build, a loopback port, an absolute config path.
if command -v podman-compose >/dev/null; then
  step "compose.yml with podman-compose"
  port=$(free_port)
  project=metricsd-ci-$$
  mkdir "$WORK/compose"
  python3 - "$SRC/deploy/docker/compose.yml" "$WORK/compose/compose.yml" "$port" \
    "$SRC/deploy/config/config.json" <<'PY'
import sys, yaml
src, dst, port, config = sys.argv[1:]
doc = yaml.safe_load(open(src))
svc = doc["services"]["metricsd"]
svc.pop("build")
svc["ports"] = [f"127.0.0.1:{port}:{p.split(':')[-1]}" for p in svc["ports"]]
svc["volumes"] = [v.replace("${METRICSD_CONFIG:-../config/config.json}", config) for v in svc["volumes"]]
yaml.safe_dump(doc, open(dst, "w"), sort_keys=False)
PY
  compose() { (cd "$WORK/compose" && timeout 120 podman-compose -p "$project" -f compose.yml "$@"); }
  CONTAINERS+=("${project}_metricsd_1")
  VOLUMES+=("${project}_metricsd-data")
  compose up -d --no-build >"$WORK/compose.log" 2>&1 || { cat "$WORK/compose.log"; fail "podman-compose up failed"; }
  wait_http "http://127.0.0.1:$port/ready" 30 || { cat "$WORK/compose.log"; fail "podman-compose: /ready never answered 200"; }
  podman healthcheck run "${project}_metricsd_1" 2>/dev/null || fail "podman-compose: the health check failed"
  compose stop -t 30 >>"$WORK/compose.log" 2>&1
  [ "$(podman inspect --format '{{.State.ExitCode}}' "${project}_metricsd_1")" = 0 ] ||
    fail "podman-compose: stop was not clean"
  compose down -v >>"$WORK/compose.log" 2>&1 || true
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  echo "podman-compose $(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p' | head -1): compose.yml up, healthy, /ready on 127.0.0.1:$port, clean stop, down"
fi

step "PASS"
