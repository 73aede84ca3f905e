#!/usr/bin/env bash
# Runs prometheus-node-exporter (collectors cpu, meminfo, diskstats, netdev, filesystem,
# loadavg) and metricsd side by side on this machine and prints, for both, the CPU time per
# collection and the resident memory, and their ratios.
#
#   CPU:  sum of the first field of /proc/PID/task/*/schedstat (ns on CPU, all threads),
#         read before and after the measured work; no sampling.
#   node_exporter: one collection = one scrape of /metrics (N scrapes, after warm-up).
#   metricsd: one collection = one cycle, counted by its self-metric
#         metricsd_collection_cycles_total on /metrics (the unlabelled series, or the
#         largest one if it carries labels), with interval_seconds=1.
#         When bench_system is built, its process-CPU time per full system cycle is printed
#         too (a figure that does not depend on wall time or on the scheduler's ticks).
#   RSS:  VmRSS (and VmHWM) from /proc/PID/status at the end.
# Targets: metricsd CPU per cycle <= 1/20 of node_exporter's, RSS <= 1/4.
#
# Usage: bench/compare_node_exporter.sh [-n SCRAPES] [-s SECONDS] [-m METRICSD] [-b BENCH]
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
    *) echo "usage: $0 [-n SCRAPES] [-s SECONDS] [-m METRICSD] [-b BENCH]" >&2; exit 2 ;;
  esac
done

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

ne_cpu_per=""
ne_rss=""
if [[ -n "$NODE_EXPORTER" ]]; then
  port=$(free_port)
  "$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$port" --collector.disable-defaults \
    --collector.cpu --collector.meminfo --collector.diskstats --collector.netdev \
    --collector.filesystem --collector.loadavg --web.disable-exporter-metrics \
    >"$WORK/node_exporter.log" 2>&1 &
  ne_pid=$!
  PIDS+=("$ne_pid")
  wait_ready "http://127.0.0.1:$port/metrics" "$ne_pid" || { echo "node_exporter did not start" >&2; exit 1; }
  for _ in $(seq 1 10); do curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"; done
  series=$(curl -fsS "http://127.0.0.1:$port/metrics" | grep -vc '^#')
  c0=$(cpu_ns "$ne_pid")
  for _ in $(seq 1 "$SCRAPES"); do curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"; done
  c1=$(cpu_ns "$ne_pid")
  ne_cpu_per=$(( (c1 - c0) / SCRAPES ))
  ne_rss=$(status_kb "$ne_pid" VmRSS)
  ne_hwm=$(status_kb "$ne_pid" VmHWM)
  printf 'node_exporter: %d scrapes, %d series, CPU %d us/scrape, RSS %d KiB (peak %d KiB)\n' \
    "$SCRAPES" "$series" $((ne_cpu_per / 1000)) "$ne_rss" "$ne_hwm"
else
  echo "node_exporter: not installed (apt-get install prometheus-node-exporter); skipped"
fi

md_cpu_per=""
md_rss=""
if [[ -x "$METRICSD" ]]; then
  port=$(free_port)
  printf '{"server":{"host":"127.0.0.1","port":%d},"collector":{"interval_seconds":1}}\n' \
    "$port" >"$WORK/config.json"
  "$METRICSD" -config "$WORK/config.json" >"$WORK/metricsd.log" 2>&1 &
  md_pid=$!
  PIDS+=("$md_pid")
  cycles() {
    curl -fsS "http://127.0.0.1:$port/metrics" |
      awk '$1 == "metricsd_collection_cycles_total" {plain = $NF; seen = 1}
           $1 ~ /^metricsd_collection_cycles_total\{/ {if ($NF > max) max = $NF}
           END {printf "%d", seen ? plain : max}'
  }
  if wait_ready "http://127.0.0.1:$port/metrics" "$md_pid"; then
    sleep 2  # let the first cycles and start-up work pass
    n0=$(cycles)
    c0=$(cpu_ns "$md_pid")
    sleep "$SECONDS_RUN"
    c1=$(cpu_ns "$md_pid")
    n1=$(cycles)
    series=$(curl -fsS "http://127.0.0.1:$port/metrics" | grep -vc '^#')
    if (( n1 > n0 )); then
      md_cpu_per=$(( (c1 - c0) / (n1 - n0) ))
      md_rss=$(status_kb "$md_pid" VmRSS)
      md_hwm=$(status_kb "$md_pid" VmHWM)
      printf 'metricsd:      %d cycles, %d series, CPU %d us/cycle, RSS %d KiB (peak %d KiB)\n' \
        $((n1 - n0)) "$series" $((md_cpu_per / 1000)) "$md_rss" "$md_hwm"
    else
      echo "metricsd: no metricsd_collection_cycles_total progress on /metrics; skipped"
    fi
  else
    echo "metricsd: did not serve /metrics (see $METRICSD -config); skipped"
    tail -5 "$WORK/metricsd.log" >&2 || true
  fi
else
  echo "metricsd: $METRICSD not built; skipped"
fi

if [[ -x "$BENCH" ]]; then
  # Process CPU time per full system-collector cycle, independent of wall time.
  line=$("$BENCH" --benchmark_filter='BM_SystemCycle' --benchmark_min_time=1 2>/dev/null |
    awk '/^BM_SystemCycle/ {print $4, $5}')
  echo "bench_system:  CPU $line per full system cycle (process time, all threads)"
fi

if [[ -n "$ne_cpu_per" && -n "$md_cpu_per" ]]; then
  echo "CPU per collection: node_exporter / metricsd = $(ratio "$ne_cpu_per" "$md_cpu_per")x (target >= 20x)"
  echo "RSS:                node_exporter / metricsd = $(ratio "$ne_rss" "$md_rss")x (target >= 4x)"
fi
