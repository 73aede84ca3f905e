#!/usr/bin/env bash
# What one hostile scrape target can cost metricsd in memory with the default limits.
#
# metricsd scrapes one target every INTERVAL seconds and remote-writes to a receiver that is
# down (so the queue holds everything on disk, as during an outage). The target serves one of
# these bodies, each the worst of its kind that the defaults still let in, or a body over a
# limit:
#   baseline  one small series (the daemon's own footprint)
#   unique    as many distinct series with long label values as sample_limit and
#             max_body_bytes allow (accepted: parsed, queued, kept for /metrics)
#   samples   one tiny series more than sample_limit (fails at it)
#   values    label values just over label_value_length_limit (fails)
#   lines     one line over line_length_limit, the rest filler up to the body cap (fails)
#   body      more than max_body_bytes (cut at the cap, fails)
# For each: the peak RSS (VmHWM) after SCRAPES scrapes, the RSS then, the peak after one
# /metrics pull (which renders what the target's last good scrape kept), the peak after
# SCRAPES more scrapes with /metrics pulled every second (each scrape then renders its part
# for /metrics), and whether the target was up.
#
# Usage: bench/hostile_target.sh [-m METRICSD] [-i INTERVAL] [-n SCRAPES] [SHAPE...]
set -euo pipefail
cd "$(dirname "$0")/.."
METRICSD=build/src/metricsd
INTERVAL=2
SCRAPES=4
while getopts "m:i:n:" opt; do
  case $opt in
    m) METRICSD=$OPTARG ;;
    i) INTERVAL=$OPTARG ;;
    n) SCRAPES=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
SHAPES=("$@")
[ ${#SHAPES[@]} -gt 0 ] || SHAPES=(baseline unique samples values lines body)
METRICSD=$(realpath "$METRICSD")
# shellcheck source=bench/lib.sh
. bench/lib.sh

mkdir -p "$WORK/www"
python3 - "$WORK/www" <<'PY'
import os, sys
www = sys.argv[1]
MiB = 1 << 20
# The defaults (config::EndpointOptions::max_body_bytes, config::ScrapeLimits).
body_cap, sample_limit, value_limit, line_limit = 8 * MiB, 200_000, 4096, 64 * 1024

def write(name, lines):
    with open(os.path.join(www, name), "w") as f:
        for line in lines:
            f.write(line)

write("baseline", ["up_probe 1\n"])
# Distinct long values, as many lines as both the body cap and sample_limit let in.
pad = "x" * 250
line_bytes = len(f'hostile_series{{id="{sample_limit}",pad="{pad}{sample_limit}"}} {sample_limit}\n')
unique = min(sample_limit, body_cap // line_bytes)
write("unique", (f'hostile_series{{id="{i}",pad="{pad}{i}"}} {i}\n' for i in range(unique)))
# One sample over the limit, the body well under the cap.
write("samples", (f"s{{i=\"{i}\"}} 1\n" for i in range(sample_limit + 1)))
long_value = "v" * (value_limit + 1)
write("values", (f'v{{i="{i}",k="{long_value}"}} 1\n' for i in range(1000)))
filler = "f" * 1000
write("lines", [f'l{{k="{"w" * line_limit}"}} 1\n'] +
      [f'l{{i="{i}",f="{filler}"}} 1\n' for i in range(body_cap // 1030 - 100)])
write("body", (f'b{{i="{i}",f="{filler}"}} 1\n' for i in range(body_cap // 1000 + 5000)))
PY

PORT_TARGET=$(free_port)
python3 bench/static_target.py "$PORT_TARGET" "$WORK/www" 2> "$WORK/target.log" &
PIDS+=($!)
DEAD_PORT=$(free_port)  # nothing listens here: the receiver is down

printf "%-9s %9s %12s %8s %15s %12s %4s  %s\n" shape body_MiB peak_rss_MB rss_MB peak_after_pull peak_pulled up error
for shape in "${SHAPES[@]}"; do
  PORT_MD=$(free_port)
  rm -rf "$WORK/data"
  cat > "$WORK/metricsd.json" <<JSON
{"server": {"host": "127.0.0.1", "port": $PORT_MD},
 "collector": {"interval_seconds": $INTERVAL, "enable_cpu": false, "enable_memory": false,
               "enable_disk": false, "enable_network": false, "enable_gpu": false,
               "enable_host": false, "enable_pressure": false},
 "endpoints": [{"name": "hostile", "url": "http://127.0.0.1:$PORT_TARGET/$shape",
                "timeout": "30s"}],
 "shippers": [{"name": "down", "type": "prometheus_remote_write",
               "endpoint": "http://127.0.0.1:$DEAD_PORT/api/v1/write"}],
 "data_dir": "$WORK/data"}
JSON
  "$METRICSD" -config "$WORK/metricsd.json" > "$WORK/metricsd-$shape.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  wait_ready "http://127.0.0.1:$PORT_MD/health" $pid || { echo "metricsd did not start" >&2; tail "$WORK/metricsd-$shape.log" >&2; exit 1; }
  sleep $((INTERVAL * SCRAPES + 1))
  hwm=$(status_kb $pid VmHWM)
  rss=$(status_kb $pid VmRSS)
  # Then one /metrics pull, which renders the kept body: its peak is reported apart.
  metrics=$(curl -fsS "http://127.0.0.1:$PORT_MD/metrics")
  up=$(awk '$1 ~ /^metricsd_scrape_up\{/ {print $2}' <<< "$metrics")
  pull_hwm=$(status_kb $pid VmHWM)
  # Then scrapes while /metrics is pulled every second (each scrape renders the part anew).
  for _ in $(seq 1 $((INTERVAL * SCRAPES))); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT_MD/metrics"
    sleep 1
  done
  pulled_hwm=$(status_kb $pid VmHWM)
  error=$(grep -o 'endpoint hostile: failed: [^"]*' "$WORK/metricsd-$shape.log" | head -1 | cut -c27-90 || true)
  body_mib=$(awk -v b="$(stat -c %s "$WORK/www/$shape")" 'BEGIN {printf "%.1f", b / 1048576}')
  mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
  printf "%-9s %9s %12s %8s %15s %12s %4s  %s\n" "$shape" "$body_mib" "$(mb "$hwm")" "$(mb "$rss")" \
    "$(mb "$pull_hwm")" "$(mb "$pulled_hwm")" "${up:-?}" "$error"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
