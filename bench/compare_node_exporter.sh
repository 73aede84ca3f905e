#!/usr/bin/env bash
# Runs prometheus-node-exporter (the collectors of metricsd's node_exporter profile: cpu,
# meminfo, loadavg, stat, filesystem, diskstats, netdev, pressure, uname, time, os, vmstat) and
# two metricsd side by side on this machine: one with its own names (collectors cpu, memory,
# disk, network, host, pressure) and one with collector.naming=node_exporter (the same series as
# that node_exporter). Prints the CPU time per collection and the resident memory of each, and
# the ratios. All are measured the same way:
#
#   CPU:  sum of the first field of /proc/PID/task/*/schedstat (ns on CPU, all threads),
#         read before and after a window; no sampling.
#   Cold, once per second (the way both run in production), in one run:
#     node_exporter: one collection = one scrape of /metrics, one scrape per second.
#     metricsd:      one collection = one cycle at interval_seconds=1, counted by its
#                    self-metric metricsd_collection_cycles_total (read outside the window).
#     Window A: node_exporter scraped, metricsd not scraped (its collection alone).
#     Window B: both scraped once per second: metricsd's cost of a cycle plus one /metrics
#               scrape, the pull-mode equivalent of one node_exporter scrape.
#   Hot, back to back (caches warm, no sleeping between collections):
#     node_exporter scraped N times in a row, beside bench_system's BM_SystemCycle (process
#     CPU time of one full system cycle in a loop, no scrape), when bench_system is built.
#   RSS:  VmRSS (and VmHWM) from /proc/PID/status at the end.
# Targets: metricsd CPU per cycle <= 1/20 of node_exporter's, RSS <= 1/4.
#
# Usage: bench/compare_node_exporter.sh [-s SECONDS] [-n SCRAPES] [-m METRICSD] [-b BENCH]
#   -s  length of each once-per-second window (default 30; the run takes about 2*s + 15 s)
#   -n  back-to-back scrapes of node_exporter for the hot figure (default 200)
#   run from the repository root after building (metricsd and, optionally, bench_system).
set -euo pipefail

SCRAPES=200
SECONDS_RUN=30
METRICSD=build/src/metricsd
BENCH=build/bench/bench_system
NODE_EXPORTER=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter || true)}
while getopts "n:s:m:b:" opt; do
  case $opt in
    n) SCRAPES=$OPTARG ;;
    s) SECONDS_RUN=$OPTARG ;;
    m) METRICSD=$OPTARG ;;
    b) BENCH=$OPTARG ;;
    *) echo "usage: $0 [-s SECONDS] [-n SCRAPES] [-m METRICSD] [-b BENCH]" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
us() { awk -v ns="$1" -v n="$2" 'BEGIN { printf "%.0f", ns / n / 1000 }'; }
get() { curl -fsS --max-time 5 -o /dev/null "$1"; }

if [[ -z "$NODE_EXPORTER" ]]; then
  echo "node_exporter: not installed (apt-get install prometheus-node-exporter)" >&2
  exit 1
fi
if [[ ! -x "$METRICSD" ]]; then
  echo "metricsd: $METRICSD not built" >&2
  exit 1
fi

ne_port=$(free_port)
"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$ne_port" --collector.disable-defaults \
  --collector.cpu --collector.meminfo --collector.diskstats --collector.netdev \
  --collector.filesystem --collector.loadavg --collector.stat --collector.pressure \
  --collector.uname --collector.time --collector.os --collector.vmstat \
  --web.disable-exporter-metrics >"$WORK/node_exporter.log" 2>&1 &
ne_pid=$!
PIDS+=("$ne_pid")
ne_url="http://127.0.0.1:$ne_port/metrics"

start_metricsd() {  # name naming -> sets started_pid, started_url
  local port
  port=$(free_port)
  printf '{"server":{"host":"127.0.0.1","port":%d},"collector":{"interval_seconds":1,%s}}\n' \
    "$port" "\"naming\":\"$2\",\"enable_gpu\":false" >"$WORK/$1.json"
  "$METRICSD" -config "$WORK/$1.json" >"$WORK/$1.log" 2>&1 &
  started_pid=$!
  PIDS+=("$started_pid")
  started_url="http://127.0.0.1:$port/metrics"
}
start_metricsd native metricsd
md_pid=$started_pid
md_url=$started_url
start_metricsd node node_exporter
mdn_pid=$started_pid
mdn_url=$started_url

wait_ready "$ne_url" "$ne_pid" || { echo "node_exporter did not start" >&2; exit 1; }
for url_pid in "$md_url $md_pid native" "$mdn_url $mdn_pid node"; do
  set -- $url_pid
  wait_ready "$1" "$2" || {
    echo "metricsd ($3) did not serve /metrics" >&2
    tail -5 "$WORK/$3.log" >&2 || true
    exit 1
  }
done

cycles() {  # url
  curl -fsS --max-time 5 "$1" |
    awk '$1 == "metricsd_collection_cycles_total" {plain = $NF; seen = 1}
         $1 ~ /^metricsd_collection_cycles_total\{/ {if ($NF > max) max = $NF}
         END {printf "%d", seen ? plain : max}'
}

# One window of SECONDS_RUN seconds: node_exporter scraped once per second, both metricsd too
# when $1 is "scrape-metricsd". Sets ne_cpu, ne_n, md_cpu, md_n, mdn_cpu, mdn_n (CPU in ns,
# collections).
window() {
  local n0 nn0 c0_ne c0_md c0_mdn start
  n0=$(cycles "$md_url")
  nn0=$(cycles "$mdn_url")
  c0_ne=$(cpu_ns "$ne_pid")
  c0_md=$(cpu_ns "$md_pid")
  c0_mdn=$(cpu_ns "$mdn_pid")
  start=$(date +%s.%N)
  ne_n=0
  for ((i = 1; i <= SECONDS_RUN; i++)); do
    get "$ne_url"
    ne_n=$((ne_n + 1))
    if [[ "$1" == scrape-metricsd ]]; then
      get "$md_url"
      get "$mdn_url"
    fi
    # Keep to a one-second grid whatever the scrapes took.
    sleep "$(awk -v s="$start" -v i="$i" -v now="$(date +%s.%N)" \
      'BEGIN { d = s + i - now; printf "%.3f", (d > 0 ? d : 0) }')"
  done
  ne_cpu=$(($(cpu_ns "$ne_pid") - c0_ne))
  md_cpu=$(($(cpu_ns "$md_pid") - c0_md))
  mdn_cpu=$(($(cpu_ns "$mdn_pid") - c0_mdn))
  md_n=$(($(cycles "$md_url") - n0))
  mdn_n=$(($(cycles "$mdn_url") - nn0))
}

# Warm-up: first collections, start-up work, node_exporter's first scrapes.
for _ in 1 2 3; do get "$ne_url"; done
sleep 3
ne_series=$(curl -fsS --max-time 5 "$ne_url" | grep -vc '^#')
md_series=$(curl -fsS --max-time 5 "$md_url" | grep -vc '^#')
mdn_series=$(curl -fsS --max-time 5 "$mdn_url" | grep -vc '^#')

# The cold floor runs beside window A: the same system calls alone, once per second.
FLOOR=$(dirname "$METRICSD")/../bench/cold_floor
floor_out="$WORK/floor.txt"
if [[ -x "$FLOOR" ]]; then
  "$FLOOR" "$SECONDS_RUN" >"$floor_out" 2>&1 &
  PIDS+=($!)
fi
window collect-only
ne_a=$(us "$ne_cpu" "$ne_n")
md_a=$(us "$md_cpu" "$md_n")
mdn_a=$(us "$mdn_cpu" "$mdn_n")
ne_a_n=$ne_n
md_a_n=$md_n
mdn_a_n=$mdn_n
window scrape-metricsd
ne_b=$(us "$ne_cpu" "$ne_n")
md_b=$(us "$md_cpu" "$md_n")
mdn_b=$(us "$mdn_cpu" "$mdn_n")
md_b_n=$md_n
mdn_b_n=$mdn_n

echo "Once per second for ${SECONDS_RUN} s per window, side by side (CPU of all threads, schedstat):"
printf '  node_exporter: %4d scrapes,  %5d series, CPU %5d us/scrape (window A), %d us/scrape (window B)\n' \
  "$ne_a_n" "$ne_series" "$ne_a" "$ne_b"
printf '  metricsd (own names):      %4d cycles, %5d series, CPU %5d us/cycle collection only (A), %5d us/cycle with one /metrics scrape (B, %d cycles)\n' \
  "$md_a_n" "$md_series" "$md_a" "$md_b" "$md_b_n"
printf '  metricsd (node_exporter):  %4d cycles, %5d series, CPU %5d us/cycle collection only (A), %5d us/cycle with one /metrics scrape (B, %d cycles)\n' \
  "$mdn_a_n" "$mdn_series" "$mdn_a" "$mdn_b" "$mdn_b_n"
echo "  CPU ratio node_exporter / metricsd (own names): $(ratio "$ne_a" "$md_a")x collection only," \
  "$(ratio "$ne_b" "$md_b")x with a scrape per cycle (target >= 20x)"
echo "  CPU ratio node_exporter / metricsd (node_exporter profile, same series): $(ratio "$ne_a" "$mdn_a")x collection only," \
  "$(ratio "$ne_b" "$mdn_b")x with a scrape per cycle"
if [[ -x "$FLOOR" ]]; then
  wait "${PIDS[-1]}" 2>/dev/null || true
  floor=$(awk '/cold floor/ {print $3}' "$floor_out")
  printf '  floor:         the same system calls alone (bench/cold_floor, window A): %s us/cycle;' \
    "${floor:-?}"
  echo " node_exporter / floor = $(ratio "$ne_a" "${floor:-0}")x"
fi

# Hot: back to back.
c0=$(cpu_ns "$ne_pid")
for ((i = 0; i < SCRAPES; i++)); do get "$ne_url"; done
ne_hot=$(us $(($(cpu_ns "$ne_pid") - c0)) "$SCRAPES")
echo "Back to back (hot caches):"
printf '  node_exporter: %4d scrapes in a row, CPU %5d us/scrape\n' "$SCRAPES" "$ne_hot"
if [[ -x "$BENCH" ]]; then
  # Process CPU time per full system cycle; the unit column is converted to microseconds.
  md_hot=$("$BENCH" --benchmark_filter='^BM_SystemCycle/' --benchmark_min_time=1 2>/dev/null |
    awk '/^BM_SystemCycle\// {
           v = $4; u = $5
           if (u == "ns") v /= 1000; else if (u == "ms") v *= 1000; else if (u == "s") v *= 1e6
           printf "%.1f", v }')
  printf '  bench_system:  BM_SystemCycle, CPU %5s us per full system cycle (in process, no scrape)\n' \
    "$md_hot"
  echo "  CPU ratio node_exporter / metricsd (hot): $(ratio "$ne_hot" "$md_hot")x"
else
  echo "  bench_system:  $BENCH not built; no hot figure for metricsd"
fi

ne_rss=$(status_kb "$ne_pid" VmRSS)
ne_hwm=$(status_kb "$ne_pid" VmHWM)
md_rss=$(status_kb "$md_pid" VmRSS)
md_hwm=$(status_kb "$md_pid" VmHWM)
mdn_rss=$(status_kb "$mdn_pid" VmRSS)
mdn_hwm=$(status_kb "$mdn_pid" VmHWM)
echo "Memory at the end:"
printf '  node_exporter: RSS %6d KiB (peak %d KiB)\n' "$ne_rss" "$ne_hwm"
printf '  metricsd (own names):     RSS %6d KiB (peak %d KiB)\n' "$md_rss" "$md_hwm"
printf '  metricsd (node_exporter): RSS %6d KiB (peak %d KiB)\n' "$mdn_rss" "$mdn_hwm"
echo "  RSS ratio node_exporter / metricsd: $(ratio "$ne_rss" "$md_rss")x own names," \
  "$(ratio "$ne_rss" "$mdn_rss")x node_exporter profile (target >= 4x)"
