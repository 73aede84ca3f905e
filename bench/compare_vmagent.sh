#!/usr/bin/env bash
# Runs vmagent and metricsd side by side, each scraping the same Prometheus-text target
# (bench/exposition_generator.h, 50,000 series by default) every second and remote-writing
# it to one VictoriaMetrics, then prints for both the CPU seconds per million samples and
# the peak RSS, and their ratios.
#
#   target: two bench/static_target.py servers (keep-alive) serving the same generated file, one per
#           scraper (their access logs give the scrape counts, for information only).
#   samples: what arrived in VictoriaMetrics, counted there with count_over_time over the
#           measuring window (by sample timestamp) once both agents have flushed. A scrape
#           that timed out mid-body still logs 200 at the target, so the access log is not
#           a measure of delivered samples.
#   CPU:  sum of the first field of /proc/PID/task/*/schedstat (ns on CPU, all threads),
#         read after a warm-up and at the end.
#   RSS:  VmHWM (peak) from /proc/PID/status at the end; for metricsd also where it is
#         (file-backed pages, series caches and kept bodies from its /metrics).
# Targets: metricsd CPU per sample <= 0.1x vmagent's, peak RSS <= 0.1x.
#
# Two shapes (-k):
#   one   one target of SERIES series (default 50,000), scraped every second;
#   pods  200 targets of 250 series each (gen_exposition 250: 280 samples), every 5 s, as a
#         DaemonSet scrapes the pods of its node (each target its own path; vmagent tells
#         them apart by a pod label, metricsd by the endpoint label).
#
# Usage: bench/compare_vmagent.sh [-k one|pods] [-s SECONDS] [-n SERIES] [-w WARMUP] [-m METRICSD] [-g GEN_EXPOSITION]
#   run from the repository root after building metricsd and gen_exposition.
set -euo pipefail

SECONDS_RUN=90
SERIES=50000
# vmagent's CPU per sample keeps falling for its first minute or so (caches filling, the Go
# runtime settling): 5 s of warm-up and a 30 s window gave it 0.82 CPU-s/M where 90 s windows
# give 0.26. The defaults wait 60 s, then measure for 90 s. metricsd runs with queue.fsync on
# (its default).
WARMUP=60
METRICSD=build/src/metricsd
GEN=build/bench/gen_exposition
VM=${VM:-$(command -v victoria-metrics || true)}
VMAGENT=${VMAGENT:-$(command -v vmagent || true)}
SHAPE=one
while getopts "k:s:n:m:g:w:" opt; do
  case $opt in
    k) SHAPE=$OPTARG ;;
    w) WARMUP=$OPTARG ;;
    s) SECONDS_RUN=$OPTARG ;;
    n) SERIES=$OPTARG ;;
    m) METRICSD=$OPTARG ;;
    g) GEN=$OPTARG ;;
    *) echo "usage: $0 [-k one|pods] [-s SECONDS] [-n SERIES] [-w WARMUP] [-m METRICSD] [-g GEN_EXPOSITION]" >&2; exit 2 ;;
  esac
done
case $SHAPE in
  one) TARGETS=1; INTERVAL=1 ;;
  pods) TARGETS=200; INTERVAL=5; SERIES=250 ;;
  *) echo "unknown shape '$SHAPE' (one or pods)" >&2; exit 2 ;;
esac
for bin in "$METRICSD" "$GEN" "$VM" "$VMAGENT"; do
  if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "missing binary: '${bin}' (build metricsd and gen_exposition; apt-get install victoria-metrics)" >&2
    exit 2
  fi
done

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
scrapes() { grep -c '"GET /metrics.*\.txt HTTP/1.1" 200' "$1" || true; }

mkdir -p "$WORK/www"
"$GEN" "$SERIES" > "$WORK/www/metrics.txt"
BODY_SERIES=$(grep -vc '^#' "$WORK/www/metrics.txt")
for ((i = 0; i < TARGETS; ++i)); do ln -s metrics.txt "$WORK/www/metrics$i.txt"; done
echo "$TARGETS target(s) of $BODY_SERIES series, $(stat -c %s "$WORK/www/metrics.txt") bytes, every ${INTERVAL}s"

# Sets TARGET_PORT. Not called in $(...): the server's PID must reach PIDS in this shell so
# that the cleanup stops it.
start_target() {  # log
  TARGET_PORT=$(free_port)
  python3 "$(dirname "$0")/static_target.py" "$TARGET_PORT" "$WORK/www" > /dev/null 2> "$1" &
  PIDS+=($!)
  wait_ready "http://127.0.0.1:$TARGET_PORT/metrics.txt" $! > /dev/null || { echo "target did not start" >&2; exit 1; }
}
start_target "$WORK/target_vmagent.log"
PORT_T1=$TARGET_PORT
start_target "$WORK/target_metricsd.log"
PORT_T2=$TARGET_PORT

PORT_VM=$(free_port)
"$VM" -httpListenAddr=127.0.0.1:"$PORT_VM" -storageDataPath="$WORK/vm" -retentionPeriod=1d -search.latencyOffset=0s \
  -search.disableCache \
  > "$WORK/vm.log" 2>&1 &
PIDS+=($!)
wait_ready "http://127.0.0.1:$PORT_VM/health" $! || { echo "victoria-metrics did not start" >&2; exit 1; }
RW="http://127.0.0.1:$PORT_VM/api/v1/write"

if [[ $SHAPE == one ]]; then
  cat > "$WORK/scrape.yml" <<YML
scrape_configs:
  - job_name: bench
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: /metrics.txt
    static_configs: [{targets: ["127.0.0.1:$PORT_T1"]}]
YML
  ENDPOINTS="[{\"name\": \"bench\", \"url\": \"http://127.0.0.1:$PORT_T2/metrics.txt\", \"metric_prefix\": \"\", \"timeout\": \"1s\"}]"
else
  {
    printf 'scrape_configs:\n  - job_name: bench\n    scrape_interval: %ss\n    scrape_timeout: %ss\n    static_configs:\n' \
      "$INTERVAL" "$INTERVAL"
    for ((i = 0; i < TARGETS; ++i)); do
      printf '      - {targets: ["127.0.0.1:%s"], labels: {__metrics_path__: /metrics%d.txt, pod: p%d}}\n' "$PORT_T1" "$i" "$i"
    done
  } > "$WORK/scrape.yml"
  ENDPOINTS=$(for ((i = 0; i < TARGETS; ++i)); do
    printf '%s{"name": "bench-%d", "url": "http://127.0.0.1:%s/metrics%d.txt", "metric_prefix": "", "interval": "%ss"}' \
      "$( ((i > 0)) && echo ,)" "$i" "$PORT_T2" "$i" "$INTERVAL"
  done)
  ENDPOINTS="[$ENDPOINTS]"
fi
PORT_VMAGENT=$(free_port)
"$VMAGENT" -promscrape.config="$WORK/scrape.yml" -remoteWrite.url="$RW" \
  -remoteWrite.tmpDataPath="$WORK/vmagent" -httpListenAddr=127.0.0.1:"$PORT_VMAGENT" \
  > "$WORK/vmagent.log" 2>&1 &
PID_VMAGENT=$!
PIDS+=($PID_VMAGENT)

PORT_MD=$(free_port)
cat > "$WORK/metricsd.json" <<JSON
{"server": {"host": "127.0.0.1", "port": $PORT_MD},
 "collector": {"interval_seconds": $INTERVAL, "enable_cpu": false, "enable_memory": false,
               "enable_disk": false, "enable_network": false, "enable_gpu": false,
               "enable_host": false, "enable_pressure": false},
 "endpoints": $ENDPOINTS,
 "shippers": [{"name": "vm", "type": "prometheus_remote_write", "endpoint": "$RW"}],
 "data_dir": "$WORK/metricsd-data"}
JSON
"$METRICSD" -config "$WORK/metricsd.json" > "$WORK/metricsd.log" 2>&1 &
PID_MD=$!
PIDS+=($PID_MD)
wait_ready "http://127.0.0.1:$PORT_MD/health" $PID_MD || { echo "metricsd did not start" >&2; tail "$WORK/metricsd.log" >&2; exit 1; }
wait_ready "http://127.0.0.1:$PORT_VMAGENT/health" $PID_VMAGENT || { echo "vmagent did not start" >&2; exit 1; }

sleep "$WARMUP"
cpu0_va=$(cpu_ns $PID_VMAGENT); cpu0_md=$(cpu_ns $PID_MD)
n0_va=$(scrapes "$WORK/target_vmagent.log"); n0_md=$(scrapes "$WORK/target_metricsd.log")
t0=$(date +%s)
sleep "$SECONDS_RUN"
t1=$(date +%s)
cpu1_va=$(cpu_ns $PID_VMAGENT); cpu1_md=$(cpu_ns $PID_MD)
n1_va=$(scrapes "$WORK/target_vmagent.log"); n1_md=$(scrapes "$WORK/target_metricsd.log")
hwm_va=$(status_kb $PID_VMAGENT VmHWM); hwm_md=$(status_kb $PID_MD VmHWM)
file_md=$(status_kb $PID_MD RssFile)
self_md=$(curl -fsS "http://127.0.0.1:$PORT_MD/metrics")
self_sum() {  # metric: its value summed over metricsd's targets
  awk -v m="$1" '$1 ~ "^" m "[{ ]" { s += $NF } END { printf "%.0f", s }' <<< "$self_md"
}

# What arrived in VictoriaMetrics: samples stamped within (t0, t1], once the agents have
# sent what they scraped in the window (a few seconds) and VictoriaMetrics has flushed.
sleep 5
curl -fsS "http://127.0.0.1:$PORT_VM/internal/force_flush" > /dev/null 2>&1 || true
sleep 2
vm_query() {  # promql -> the single value, 0 when empty
  curl -fsS --get --data-urlencode "query=$1" --data-urlencode "time=$t1" \
    "http://127.0.0.1:$PORT_VM/api/v1/query" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}
window=$((t1 - t0))
arrived_va=$(vm_query "sum(count_over_time({__name__=~\"service_.*\",job=\"bench\"}[${window}s]))")
arrived_md=$(vm_query "sum(count_over_time({__name__=~\"service_.*\",endpoint=~\"bench.*\"}[${window}s]))")
vm_va=$(vm_query 'count({__name__=~"service_.*",job="bench"})')
vm_md=$(vm_query 'count({__name__=~"service_.*",endpoint=~"bench.*"})')
echo "scrapes answered 200 (target access logs): vmagent $((n1_va - n0_va)), metricsd $((n1_md - n0_md))"

awk -v s="$window" -v series="$((BODY_SERIES * TARGETS))" \
  -v cva="$((cpu1_va - cpu0_va))" -v cmd="$((cpu1_md - cpu0_md))" \
  -v ava="$arrived_va" -v amd="$arrived_md" \
  -v hva="$hwm_va" -v hmd="$hwm_md" -v vva="$vm_va" -v vmd="$vm_md" 'BEGIN {
  sva = ava / 1e6; smd = amd / 1e6; nva = ava / series; nmd = amd / series;
  pva = (sva > 0) ? cva / 1e9 / sva : 0; pmd = (smd > 0) ? cmd / 1e9 / smd : 0;
  printf "window %d s, %d series per round of scrapes\n", s, series;
  printf "%-10s %14s %10s %12s %14s %12s %12s\n", "", "samples_in_vm", "scrapes", "cpu_s", "cpu_s/Msample", "peak_rss_MB", "series_in_vm";
  printf "%-10s %14.0f %10.1f %12.3f %14.3f %12.1f %12s\n", "vmagent", ava, nva, cva / 1e9, pva, hva / 1024, vva;
  printf "%-10s %14.0f %10.1f %12.3f %14.3f %12.1f %12s\n", "metricsd", amd, nmd, cmd / 1e9, pmd, hmd / 1024, vmd;
  rc = (pmd > 0) ? pva / pmd : 0; rm = (hmd > 0) ? hva / hmd : 0;
  printf "ratio vmagent/metricsd: cpu per sample %.2fx, peak RSS %.2fx\n", rc, rm;
}'
# Where metricsd's memory is at the end of the window (its own accounting in /metrics).
awk -v file="$file_md" -v entries="$(self_sum metricsd_scrape_series_cache_entries)" \
  -v cache="$(self_sum metricsd_scrape_series_cache_bytes)" \
  -v bodies="$(self_sum metricsd_scrape_body_bytes)" 'BEGIN {
  printf "metricsd memory: file-backed %.1f MB, series caches %.1f MB (%d series, %.0f B each), kept bodies %.1f MB\n",
    file / 1024, cache / 1e6, entries, (entries > 0 ? cache / entries : 0), bodies / 1e6;
}'
