#!/usr/bin/env bash
# The host agent's main job, three ways in one run on this machine, each collecting every
# second and landing in one real Prometheus:
#   push:   metricsd, default host collectors, remote-writing (queue.fsync as configured);
#   pull:   metricsd, the same collectors, scraped by that Prometheus every second;
#   pair:   node_exporter (the same collectors) scraped by vmagent every second, vmagent
#           remote-writing.
# Printed per agent: CPU per cycle (all threads of its processes, from schedstat, no
# sampling), the samples that arrived in Prometheus over the window (a range query over the
# window, so a cycle that never landed does not count), arrived samples per cycle, and RSS.
# Then the ratios the shipping path is judged by. What fdatasync costs is measured as the
# difference to a fourth agent, push with queue.fsync off ("nosync"); a fifth ("group")
# pushes with group commit (queue.fsync_interval 10s).
# The floor under all of them is measured in the same run: bench/cold_floor makes the same
# reads of /proc and pushes one remote write request of as many samples per cycle, with no
# other work and one wake-up per cycle, with fdatasync ("floor") and without ("floor_nosync").
# A target of pair/push >= 20 can be met only where pair/floor is above 20. A third floor
# ("floor_curl") posts through libcurl: its RSS is the least an agent sending with libcurl has.
# CPU is read from schedstat (nanoseconds, all threads) and, as a check of that reading, from
# /proc/PID/stat utime + stime (clock ticks, exited threads included); the two must agree
# within a few ticks over the window.
#
# Usage: bench/push_host_agent.sh [-s SECONDS] [-w WARMUP] [-m METRICSD]
#   (from the repository root; about WARMUP + SECONDS + 20 s; defaults 60 and 20)
set -euo pipefail

SECONDS_RUN=60
WARMUP=20
METRICSD=build/src/metricsd
SERIES=160  # samples per request of the floor: what the push agents deliver per cycle
while getopts "s:w:m:" opt; do
  case $opt in
    s) SECONDS_RUN=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    m) METRICSD=$OPTARG ;;
    *) echo "usage: $0 [-s SECONDS] [-w WARMUP] [-m METRICSD]" >&2; exit 2 ;;
  esac
done
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
VMAGENT=${VMAGENT:-$(command -v vmagent || true)}
NODE_EXPORTER=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter || true)}
for bin in "$METRICSD" "$PROMETHEUS" "$VMAGENT" "$NODE_EXPORTER"; do
  [[ -n "$bin" && -x "$bin" ]] || {
    echo "missing binary '$bin' (build metricsd; apt-get install prometheus victoria-metrics prometheus-node-exporter)" >&2
    exit 1
  }
done
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

PORT_PROM=$(free_port)
PORT_PULL=$(free_port)
PORT_PUSH=$(free_port)
PORT_NOSYNC=$(free_port)
PORT_GROUP=$(free_port)
PORT_NE=$(free_port)
PORT_VMAGENT=$(free_port)
cat >"$WORK/prom.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: pull
    static_configs: [{targets: ["127.0.0.1:$PORT_PULL"], labels: {agent: pull}}]
YML
"$PROMETHEUS" --config.file="$WORK/prom.yml" --web.listen-address=127.0.0.1:"$PORT_PROM" \
  --storage.tsdb.path="$WORK/tsdb" --web.enable-remote-write-receiver >"$WORK/prom.log" 2>&1 &
PIDS+=("$!")
wait_ready "http://127.0.0.1:$PORT_PROM/-/ready" "$!" || { echo "prometheus did not start" >&2; exit 1; }
RW="http://127.0.0.1:$PORT_PROM/api/v1/write"

start_metricsd() {  # name port shipper-json; sets md_pid
  printf '{"server":{"host":"127.0.0.1","port":%d},"collector":{"interval_seconds":1,"enable_gpu":false},
    "global_labels":{"agent":"%s"},"data_dir":"%s"%s}\n' \
    "$2" "$1" "$WORK/data-$1" "${3:+,\"shipper\":$3}" >"$WORK/$1.json"
  "$METRICSD" -config "$WORK/$1.json" >"$WORK/$1.log" 2>&1 &
  md_pid=$!
  PIDS+=("$md_pid")
  wait_ready "http://127.0.0.1:$2/health" "$md_pid" || { echo "metricsd $1 did not start" >&2; tail -5 "$WORK/$1.log" >&2; exit 1; }
}
start_metricsd push "$PORT_PUSH" "{\"type\":\"prometheus_remote_write\",\"endpoint\":\"$RW\"}"
PID_PUSH=$md_pid
start_metricsd nosync "$PORT_NOSYNC" "{\"type\":\"prometheus_remote_write\",\"endpoint\":\"$RW\",\"queue\":{\"fsync\":false}}"
PID_NOSYNC=$md_pid
start_metricsd group "$PORT_GROUP" "{\"type\":\"prometheus_remote_write\",\"endpoint\":\"$RW\",\"queue\":{\"fsync_interval\":\"10s\"}}"
PID_GROUP=$md_pid
start_metricsd pull "$PORT_PULL" ""
PID_PULL=$md_pid

FLOOR=$(dirname "$METRICSD")/../bench/cold_floor
[[ -x "$FLOOR" ]] || { echo "missing $FLOOR (build the bench targets)" >&2; exit 1; }
PORT_RW=${RW#http://127.0.0.1:}
PORT_RW=${PORT_RW%%/*}
declare -A FLOOR_PID  # agent name -> PID
for mode in fsync nosync curl; do
  name=floor_$mode
  [[ $mode == fsync ]] && name=floor
  "$FLOOR" $((WARMUP + SECONDS_RUN + 30)) "$PORT_RW" "$SERIES" "$mode" >"$WORK/$name.log" 2>&1 &
  FLOOR_PID[$name]=$!
  PIDS+=("$!")
done

# The same collectors as metricsd's defaults: cpu, memory, filesystem, disk, network, host
# (boot time, context switches, forks, procs, load) and pressure.
"$NODE_EXPORTER" --web.listen-address=127.0.0.1:"$PORT_NE" --collector.disable-defaults \
  --collector.cpu --collector.meminfo --collector.diskstats --collector.netdev \
  --collector.filesystem --collector.loadavg --collector.stat --collector.pressure \
  --web.disable-exporter-metrics >"$WORK/ne.log" 2>&1 &
PID_NE=$!
PIDS+=("$PID_NE")
wait_ready "http://127.0.0.1:$PORT_NE/metrics" "$PID_NE" || { echo "node_exporter did not start" >&2; exit 1; }
cat >"$WORK/vmagent.yml" <<YML
scrape_configs:
  - job_name: node
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs: [{targets: ["127.0.0.1:$PORT_NE"]}]
YML
"$VMAGENT" -promscrape.config="$WORK/vmagent.yml" -remoteWrite.url="$RW" \
  -remoteWrite.label=agent=pair -remoteWrite.tmpDataPath="$WORK/vmagent" \
  -httpListenAddr=127.0.0.1:"$PORT_VMAGENT" >"$WORK/vmagent.log" 2>&1 &
PID_VMAGENT=$!
PIDS+=("$PID_VMAGENT")
wait_ready "http://127.0.0.1:$PORT_VMAGENT/health" "$PID_VMAGENT" || { echo "vmagent did not start" >&2; exit 1; }

sleep "$WARMUP"
declare -A cpu0 cpu1
pids_of() {  # agent
  case $1 in
    push) echo "$PID_PUSH" ;; nosync) echo "$PID_NOSYNC" ;; group) echo "$PID_GROUP" ;;
    pull) echo "$PID_PULL" ;;
    pair) echo "$PID_NE $PID_VMAGENT" ;;
    floor*) echo "${FLOOR_PID[$1]}" ;;
  esac
}
sum_over() {  # agent command...: what `command ... PID` prints, summed over the agent's processes
  local agent=$1 total=0 pid
  shift
  for pid in $(pids_of "$agent"); do
    total=$(awk -v a="$total" -v b="$("$@" "$pid")" 'BEGIN { printf "%.0f", a + b }')
  done
  echo "$total"
}
TICK=$(getconf CLK_TCK)
tick_ns() {  # PID: utime + stime in ns (fields 14 and 15 of /proc/PID/stat)
  awk -v t="$TICK" '{ sub(/^.*\) /, ""); printf "%.0f", ($12 + $13) * 1e9 / t }' /proc/"$1"/stat
}
# kB: VmRSS, or RssAnon (without the pages of mapped files such as shared libraries)
vm_rss() { status_kb "$1" VmRSS; }
rss_anon() { status_kb "$1" RssAnon; }
AGENTS="push nosync group pull pair floor floor_nosync floor_curl"
declare -A tick0 tick1
for a in $AGENTS; do cpu0[$a]=$(sum_over "$a" cpu_ns); tick0[$a]=$(sum_over "$a" tick_ns); done
start=$(date +%s)
sleep "$SECONDS_RUN"
end=$(date +%s)
for a in $AGENTS; do cpu1[$a]=$(sum_over "$a" cpu_ns); tick1[$a]=$(sum_over "$a" tick_ns); done
declare -A rss anon
for a in $AGENTS; do
  rss[$a]=$(sum_over "$a" vm_rss)
  anon[$a]=$(sum_over "$a" rss_anon)
done
sleep 5  # the last requests of the window land

arrived() {  # agent: raw samples stored in the window (count_over_time per series would
  # collide once the name is dropped, so the range vector is counted here)
  curl -sS "http://127.0.0.1:$PORT_PROM/api/v1/query" \
    --data-urlencode "query={agent=\"$1\",__name__!~\"up|scrape_.+\"}[${SECONDS_RUN}s]" \
    --data-urlencode "time=$end" |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
if "data" not in d: sys.exit(str(d))
print(sum(len(r["values"]) for r in d["data"]["result"]))'
}
declare -A per_cycle
printf '%-12s %14s %12s %10s %14s %10s %10s\n' agent "CPU/cycle(us)" "(ticks, us)" arrived \
  "samples/cycle" "RSS(kB)" "anon(kB)"
for a in $AGENTS; do
  per_cycle[$a]=$(awk -v x="${cpu1[$a]}" -v y="${cpu0[$a]}" -v s="$((end - start))" 'BEGIN { printf "%.1f", (x - y) / s / 1000 }')
  by_ticks=$(awk -v x="${tick1[$a]}" -v y="${tick0[$a]}" -v s="$((end - start))" 'BEGIN { printf "%.0f", (x - y) / s / 1000 }')
  n=$(arrived "$a")
  printf '%-12s %14s %12s %10s %14s %10s %10s\n' "$a" "${per_cycle[$a]}" "$by_ticks" "$n" \
    "$(awk -v n="$n" -v s="$((end - start))" 'BEGIN { printf "%.1f", n / s }')" "${rss[$a]}" \
    "${anon[$a]}"
done
awk -v push="${per_cycle[push]}" -v nosync="${per_cycle[nosync]}" -v pull="${per_cycle[pull]}" \
  -v group="${per_cycle[group]}" -v pair="${per_cycle[pair]}" -v rpush="${rss[push]}" \
  -v rpair="${rss[pair]}" -v floor="${per_cycle[floor]}" -v floor0="${per_cycle[floor_nosync]}" \
  -v rcurl="${rss[floor_curl]}" \
  -v tick="$TICK" -v s="$((end - start))" 'BEGIN {
  printf "pair/push CPU per cycle: %.1fx (target >= 20); with group commit %.1fx\n", pair / push, pair / group
  printf "pair/push RSS: %.1fx (target >= 5)\n", rpair / rpush
  printf "fsync cost (push - nosync): %.1f us/cycle\n", push - nosync
  printf "push / (1.5 x pull + fsync cost): %.2f (target <= 1)\n", push / (1.5 * pull + (push - nosync))
  printf "pair/floor: %.1fx with fdatasync per cycle, %.1fx without (the most pair/push can be)\n", pair / floor, pair / floor0
  printf "pair/floor_curl RSS: %.1fx (the most pair/push RSS can be with libcurl)\n", rpair / rcurl
  printf "one clock tick over the window is %.0f us/cycle (the resolution of the ticks column)\n", 1e6 / tick / s
}'
