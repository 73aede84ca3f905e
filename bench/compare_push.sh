#!/usr/bin/env bash
# Push mode, side by side: two metricsd binaries (say the last release and this build) each
# collect the default host metrics every second and remote-write them to a Prometheus of
# their own, at the same time on this machine. Prints, per binary, the CPU per collection
# cycle (all threads: collection, encoding, queue, sending) and per sample that arrived.
#
#   CPU:      first field of /proc/PID/task/*/schedstat summed over threads, before and after
#             the window (no sampling).
#   Arrived:  the raw samples each Prometheus stored in the window (a range query), so a
#             sample that was collected but never stored does not count.
#
# Usage: bench/compare_push.sh [-s SECONDS] [-x JSON] BINARY_A BINARY_B
#   -s  the measured window (default 60; the run takes about s + 20 s)
#   -x  more shipper keys for both, e.g. '"queue":{"fsync":false}'
set -euo pipefail

SECONDS_RUN=60
EXTRA=""
while getopts "s:x:" opt; do
  case $opt in
    s) SECONDS_RUN=$OPTARG ;;
    x) EXTRA=",$OPTARG" ;;
    *) echo "usage: $0 [-s SECONDS] [-x JSON] BINARY_A BINARY_B" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [-s SECONDS] [-x JSON] BINARY_A BINARY_B" >&2
  exit 2
fi
PROMETHEUS=$(command -v prometheus || true)
[[ -n "$PROMETHEUS" ]] || { echo "prometheus: not installed" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

declare -a md_pids prom_ports
for i in 0 1; do
  prom_port=$(free_port)
  printf 'global:\n  scrape_interval: 1h\n' >"$WORK/prom$i.yml"
  "$PROMETHEUS" --config.file="$WORK/prom$i.yml" --web.listen-address=127.0.0.1:"$prom_port" \
    --storage.tsdb.path="$WORK/tsdb$i" --web.enable-remote-write-receiver \
    >"$WORK/prom$i.log" 2>&1 &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:$prom_port/-/ready" "$!" || { echo "prometheus did not start" >&2; exit 1; }
  prom_ports[$i]=$prom_port
done
for i in 0 1; do
  md_port=$(free_port)
  printf '{"server":{"host":"127.0.0.1","port":%d},"collector":{"interval_seconds":1},
    "data_dir":"%s","shipper":{"type":"prometheus_remote_write",
    "endpoint":"http://127.0.0.1:%d/api/v1/write"%s}}\n' \
    "$md_port" "$WORK/data$i" "${prom_ports[$i]}" "$EXTRA" >"$WORK/md$i.json"
  binary=$1
  [[ $i -eq 1 ]] && binary=$2
  "$binary" -config "$WORK/md$i.json" >"$WORK/md$i.log" 2>&1 &
  md_pids[$i]=$!
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:$md_port/health" "$!" || { echo "$binary did not start" >&2; exit 1; }
done

sleep 10  # past start-up and the first requests
declare -a before
for i in 0 1; do before[$i]=$(cpu_ns "${md_pids[$i]}"); done
start=$(date +%s)
sleep "$SECONDS_RUN"
end=$(date +%s)
declare -a after
for i in 0 1; do after[$i]=$(cpu_ns "${md_pids[$i]}"); done
sleep 3  # the last requests of the window land

printf '%-40s %14s %12s %16s %10s\n' binary "CPU/cycle(us)" arrived "CPU/sample(ns)" "RSS(kB)"
for i in 0 1; do
  binary=$1
  [[ $i -eq 1 ]] && binary=$2
  # The raw samples of the window (count_over_time over several names would collide).
  arrived=$(curl -sS "http://127.0.0.1:${prom_ports[$i]}/api/v1/query" \
    --data-urlencode "query={__name__=~\"system_.+\"}[${SECONDS_RUN}s]" \
    --data-urlencode "time=$end" |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
if "data" not in d: sys.exit(str(d))
print(sum(len(r["values"]) for r in d["data"]["result"]))')
  ns=$(awk -v a="${after[$i]}" -v b="${before[$i]}" 'BEGIN { printf "%.0f", a - b }')
  printf '%-40s %14s %12s %16s %10s\n' "$binary" \
    "$(awk -v ns="$ns" -v s="$((end - start))" 'BEGIN { printf "%.0f", ns / s / 1000 }')" \
    "$arrived" \
    "$(awk -v ns="$ns" -v n="$arrived" 'BEGIN { if (n > 0) printf "%.0f", ns / n; else print "n/a" }')" \
    "$(status_kb "${md_pids[$i]}" VmRSS)"
done
