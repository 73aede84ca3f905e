#!/usr/bin/env bash
# The agent's own endpoint under load (issue 13), against the real binary on 127.0.0.1:
#   1. /health latency (new connection per probe, as a kubelet probes) while 500 idle
#      connections and 200 slow readers are held (from 8 source addresses 127.0.0.2-9) and
#      8 clients pull /metrics (gzip) in a loop. Target: p99 <= 10 ms.
#   2. CPU per /metrics pull of the default host collectors, quiet: schedstat of all threads
#      before/after N pulls on one keep-alive connection, less the idle CPU of an equally long
#      window (the collection cycles); p50/p99 latency as the Python client sees it (its own
#      overhead included). node_exporter (the same collectors) measured the same way, and
#      the floor: bench/pull_floor answering with as many bytes and doing nothing else
#      (FLOOR=path; by default next to METRICSD's build tree).
#      Targets: <= 20 us and p99 <= 1 ms.
#   3. RSS of a metricsd that scrapes a 5 MB body (so /metrics is over 5 MB) while 200 slow
#      readers (4 sources) each hold a response in progress.
# Usage: bench/endpoint_load.sh [-m METRICSD] [-n PULLS]   (from the repository root; about
# 2 minutes). Every process it starts is stopped by PID at the end (bench/lib.sh).
set -euo pipefail

METRICSD=build/src/metricsd
PULLS=2000
while getopts "m:n:" opt; do
  case $opt in
    m) METRICSD=$OPTARG ;;
    n) PULLS=$OPTARG ;;
    *) echo "usage: $0 [-m METRICSD] [-n PULLS]" >&2; exit 2 ;;
  esac
done
HERE=$(dirname "$0")
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
LOAD="python3 $HERE/endpoint_load.py"
NODE_EXPORTER=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter || true)}
[[ -x "$METRICSD" ]] || { echo "metricsd: $METRICSD not built" >&2; exit 1; }
FLOOR=${FLOOR:-$(dirname "$METRICSD")/../bench/pull_floor}

start_metricsd() {  # port [endpoints json]; sets md_pid
  printf '{"server":{"host":"127.0.0.1","port":%d},"collector":{"enable_gpu":false}%s}\n' \
    "$1" "${2:+,\"endpoints\":$2}" >"$WORK/config-$1.json"
  "$METRICSD" -config "$WORK/config-$1.json" >"$WORK/metricsd-$1.log" 2>&1 &
  md_pid=$!
  PIDS+=("$md_pid")
  wait_ready "http://127.0.0.1:$1/metrics" "$md_pid" || {
    echo "metricsd did not start" >&2
    tail -5 "$WORK/metricsd-$1.log" >&2
    exit 1
  }
}
# CPU ns of $1 over N pulls, less $1's idle CPU over a window as long; prints "us/pull".
cpu_per_pull() {  # pid port n gzip
  local c0 c1 t0 t1 idle0 idle1 lat
  idle0=$(cpu_ns "$1"); t0=$(date +%s%N)
  lat=$($LOAD serial "$2" "$3" "$4")
  t1=$(date +%s%N); c1=$(cpu_ns "$1")
  c0=$idle0
  idle0=$(cpu_ns "$1")
  sleep "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f", ns / 1e9 }')"
  idle1=$(cpu_ns "$1")
  awk -v busy=$((c1 - c0)) -v idle=$((idle1 - idle0)) -v n="$3" -v lat="$lat" \
    'BEGIN { printf "%.1f us/pull (raw %.1f, idle %.1f), latency %s\n", (busy - idle) / n / 1000, busy / n / 1000, idle / n / 1000, lat }'
}

echo "== 1. /health under load (500 idle, 200 slow readers, 8 pullers)"
port=$(free_port)
start_metricsd "$port"
$LOAD hold "$port" 500 200 30 >"$WORK/hold.txt" &
hold_pid=$!
PIDS+=("$hold_pid")
for _ in $(seq 1 100); do [[ -s "$WORK/hold.txt" ]] && break; sleep 0.1; done
echo "  load: $(head -1 "$WORK/hold.txt"), reopened whenever the server closes one"
$LOAD pull "$port" 8 25 >"$WORK/pulls.txt" &
pull_pid=$!
PIDS+=("$pull_pid")
echo "  /health: $($LOAD probe "$port" 300)"
echo "  metricsd RSS $(status_kb "$md_pid" VmRSS) kB, open fds $(ls /proc/"$md_pid"/fd | wc -l)"
wait "$pull_pid" || true
echo "  /metrics pulls by 8 clients in 25 s: $(cat "$WORK/pulls.txt")"
wait "$hold_pid" || true
echo "  $(tail -1 "$WORK/hold.txt")"
kill "$md_pid"; wait "$md_pid" 2>/dev/null || true

echo "== 2. CPU per /metrics pull, quiet (N=$PULLS)"
port=$(free_port)
start_metricsd "$port"
$LOAD serial "$port" 100 1 >/dev/null  # warm-up: the gzip of the system part is made once
echo "  metricsd identity: $(cpu_per_pull "$md_pid" "$port" "$PULLS" 0)"
echo "  metricsd gzip:     $(cpu_per_pull "$md_pid" "$port" "$PULLS" 1)"
echo "  metricsd series: $(curl -fsS "http://127.0.0.1:$port/metrics" | grep -vc '^#')"
if [[ -x "$FLOOR" ]]; then
  # The same pulls from a server that does nothing but answer with as many bytes: the part of
  # the figures above that is the kernel's and the machine's, not metricsd's.
  for mode in identity gzip; do
    if [[ $mode == gzip ]]; then
      size=$(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/metrics" | wc -c)
    else
      size=$(curl -fsS "http://127.0.0.1:$port/metrics" | wc -c)
    fi
    floor_port=$(free_port)
    "$FLOOR" "$floor_port" "$size" &
    floor_pid=$!
    PIDS+=("$floor_pid")
    wait_ready "http://127.0.0.1:$floor_port/metrics" "$floor_pid"
    $LOAD serial "$floor_port" 100 0 >/dev/null
    printf '  floor, %-8s  %s\n' "$mode:" "$(cpu_per_pull "$floor_pid" "$floor_port" "$PULLS" 0)"
    kill "$floor_pid"; wait "$floor_pid" 2>/dev/null || true
  done
else
  echo "  floor: $FLOOR not built"
fi
if [[ -n "$NODE_EXPORTER" ]]; then
  ne_port=$(free_port)
  "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$ne_port" --collector.disable-defaults \
    --collector.cpu --collector.meminfo --collector.diskstats --collector.netdev \
    --collector.filesystem --collector.loadavg --web.disable-exporter-metrics \
    >"$WORK/ne.log" 2>&1 &
  ne_pid=$!
  PIDS+=("$ne_pid")
  wait_ready "http://127.0.0.1:$ne_port/metrics" "$ne_pid"
  $LOAD serial "$ne_port" 20 1 >/dev/null
  echo "  node_exporter gzip: $(cpu_per_pull "$ne_pid" "$ne_port" 200 1)"
  echo "  node_exporter series: $(curl -fsS "http://127.0.0.1:$ne_port/metrics" | grep -vc '^#')"
  kill "$ne_pid"; wait "$ne_pid" 2>/dev/null || true
else
  echo "  node_exporter: not installed"
fi
kill "$md_pid"; wait "$md_pid" 2>/dev/null || true

echo "== 3. RSS with 200 slow readers of a >5 MB /metrics"
mkdir -p "$WORK/big"
python3 -c '
import sys
lines = ["# TYPE big_series_total counter\n"]
for i in range(80000):
    lines.append("big_series_total{shard=\"%d\",pod=\"pod-%05d\",zone=\"zone-a\"} %d\n" % (i % 16, i, i))
sys.stdout.write("".join(lines))' >"$WORK/big/metrics"
big_port=$(free_port)
python3 -m http.server "$big_port" --bind 127.0.0.1 --directory "$WORK/big" >/dev/null 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$big_port/metrics" "$!"  # metricsd scrapes once at start
port=$(free_port)
start_metricsd "$port" "[{\"name\":\"big\",\"url\":\"http://127.0.0.1:$big_port/metrics\",\"interval\":\"10s\"}]"
size=0
for _ in $(seq 1 150); do
  size=$(curl -fsS "http://127.0.0.1:$port/metrics" | wc -c)
  ((size > 5000000)) && break
  sleep 0.1
done
echo "  /metrics: $size bytes; RSS before $(status_kb "$md_pid" VmRSS) kB"
$LOAD hold "$port" 0 200 15 4 >"$WORK/hold3.txt" &
hold_pid=$!
PIDS+=("$hold_pid")
for _ in $(seq 1 100); do [[ -s "$WORK/hold3.txt" ]] && break; sleep 0.1; done
sleep 3  # the responses are under way and the socket buffers full
echo "  $(head -1 "$WORK/hold3.txt"): RSS $(status_kb "$md_pid" VmRSS) kB, HWM $(status_kb "$md_pid" VmHWM) kB"
echo "  /health meanwhile: $($LOAD probe "$port" 50)"
wait "$hold_pid" || true
echo "  $(tail -1 "$WORK/hold3.txt"); after: RSS $(status_kb "$md_pid" VmRSS) kB"
