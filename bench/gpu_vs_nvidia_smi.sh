#!/usr/bin/env bash
# The GPU collector on a real NVIDIA GPU, beside nvidia-smi (the driver's own tool, also NVML):
#   1. every value both report, per GPU: count, index, name, UUID, memory total/used, GPU and
#      memory utilisation, temperature, power draw and limit, SM and memory clocks, fan speed.
#      Fixed values must match exactly (memory total to the MiB nvidia-smi rounds to); moving
#      values must lie between two nvidia-smi readings taken just before and just after
#      metricsd's, widened by a tolerance (see TOLERANCES);
#   2. the CPU cost of the GPU collector per GPU per tick: two metricsd runs at
#      interval_seconds=1 for -s seconds, one with only the GPU collector and one with no
#      collector at all; the difference of their CPU time (schedstat, all threads) divided by
#      the cycles they ran (metricsd_collection_cycles_total) and by the GPU count.
#
# Usage: bench/gpu_vs_nvidia_smi.sh [-s SECONDS] [-m METRICSD] [-l LIBNVIDIA_ML]
#   -s  length of each cost window (default 30)
#   -m  the metricsd binary (default build/src/metricsd)
#   -l  collector.gpu.nvml_library (default: metricsd's, libnvidia-ml.so.1)
# Exits 77 with a message where nvidia-smi or an NVIDIA driver is missing; 1 when a value
# differs; 0 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=30
METRICSD=build/src/metricsd
NVML_LIBRARY=""
while getopts "s:m:l:" opt; do
  case $opt in
    s) SECONDS_PER_RUN=$OPTARG ;;
    m) METRICSD=$OPTARG ;;
    l) NVML_LIBRARY=$OPTARG ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done

if ! command -v nvidia-smi >/dev/null; then
  echo "SKIP: nvidia-smi is not installed: this needs a machine with an NVIDIA GPU and its driver"
  exit 77
fi
if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: nvidia-smi finds no GPU or no driver:"
  nvidia-smi -L 2>&1 | head -5
  exit 77
fi
[ -x "$METRICSD" ] || { echo "no metricsd binary at $METRICSD (-m)" >&2; exit 2; }
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

# shellcheck source=bench/lib.sh
. bench/lib.sh

FIELDS=index,uuid,name,memory.total,memory.used,memory.reserved,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.mem,fan.speed
smi() {
  # memory.reserved exists since driver 510; older drivers answer the query without it.
  nvidia-smi --query-gpu="$FIELDS" --format=csv,noheader,nounits 2>/dev/null ||
    nvidia-smi --query-gpu="${FIELDS/,memory.reserved/}" --format=csv,noheader,nounits
}

start_metricsd() {  # config-file port
  "$METRICSD" -config "$1" >"$WORK/metricsd-$2.log" 2>&1 &
  PIDS+=($!)
  wait_ready "http://127.0.0.1:$2/health" "$!" ||
    { cat "$WORK/metricsd-$2.log" >&2; echo "metricsd did not start" >&2; exit 1; }
}
write_config() {  # file port enable_gpu
  local library=""
  [ -z "$NVML_LIBRARY" ] || library=", \"gpu\": {\"nvml_library\": \"$NVML_LIBRARY\"}"
  cat >"$1" <<EOF
{"server": {"host": "127.0.0.1", "port": $2},
 "collector": {"interval_seconds": 1, "enable_cpu": false, "enable_memory": false,
               "enable_disk": false, "enable_network": false, "enable_host": false,
               "enable_pressure": false, "enable_gpu": $3$library}}
EOF
}

echo "== nvidia-smi"
nvidia-smi --query-gpu=index,name,driver_version,pci.bus_id --format=csv
PORT=$(free_port)
write_config "$WORK/gpu.json" "$PORT" true
start_metricsd "$WORK/gpu.json" "$PORT"
GPU_PID=${PIDS[-1]}
# Two ticks, so that every per-tick value has been read at least once.
for _ in $(seq 1 50); do
  cycles=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '$1 == "metricsd_collection_cycles_total" {print $2}')
  [ "${cycles%.*}" -ge 2 ] 2>/dev/null && break
  sleep 0.1
done

echo "== every value both report"
smi >"$WORK/smi-before.csv"
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$WORK/metrics.txt"
smi >"$WORK/smi-after.csv"
rc=0
python3 - "$WORK/metrics.txt" "$WORK/smi-before.csv" "$WORK/smi-after.csv" "$FIELDS" <<'PY' || rc=1
import csv, re, sys

metrics_path, before_path, after_path, fields = sys.argv[1:]
fields = fields.split(",")
MIB = 1024 * 1024
# Moving values: allowed distance beyond the range of the two nvidia-smi readings.
TOLERANCES = {"util": 5.0, "mem_util": 5.0, "temp": 2.0, "power_w": 15.0, "clock_sm": 100.0,
              "clock_mem": 100.0, "used_mib": 64.0, "fan": 5.0}


def read_smi(path):
    rows = {}
    for row in csv.reader(open(path), skipinitialspace=True):
        names = fields if len(row) == len(fields) else [f for f in fields if f != "memory.reserved"]
        rec = dict(zip(names, (v.strip() for v in row)))
        rows[int(rec["index"])] = rec
    return rows


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None  # "[N/A]", "[Not Supported]"


samples = {}
for line in open(metrics_path):
    m = re.match(r"^(system_gpu_\w+)\{([^}]*)\} (\S+)$", line)
    if m:
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        if "gpu" in labels and "type" not in labels and "pid" not in labels:
            samples.setdefault(int(labels["gpu"]), {})[m.group(1)] = (float(m.group(3)), labels)
count = re.search(r"^system_gpu_count (\S+)$", open(metrics_path).read(), re.M)

before, after = read_smi(before_path), read_smi(after_path)
failures = 0


def report(ok, what):
    global failures
    failures += 0 if ok else 1
    print(("ok    " if ok else "DIFF  ") + what)


report(count is not None and int(float(count.group(1))) == len(before),
       f"GPU count: metricsd {count and count.group(1)}, nvidia-smi {len(before)}")
for index in sorted(before):
    b, a = before[index], after.get(index, before[index])
    got = samples.get(index, {})
    print(f"-- GPU {index}: {b['name']} {b['uuid']}")
    if not got:
        report(False, f"metricsd has no system_gpu_* series for gpu=\"{index}\"")
        continue
    labels = next(iter(got.values()))[1]
    report(labels.get("name") == b["name"], f"name: metricsd {labels.get('name')!r}, nvidia-smi {b['name']!r}")
    report(labels.get("uuid") == b["uuid"], f"uuid: metricsd {labels.get('uuid')}, nvidia-smi {b['uuid']}")

    def value(metric, scale=1.0):
        v = got.get(metric)
        return None if v is None else v[0] / scale

    def fixed(metric, key, scale, what):
        ours, theirs = value(metric, scale), number(b[key])
        if theirs is None or ours is None:
            print(f"n/a   {what}: metricsd {ours}, nvidia-smi {b[key]}")
            return
        # nvidia-smi prints whole MiB, W with two decimals.
        report(abs(ours - theirs) <= 1.0, f"{what}: metricsd {ours:.2f}, nvidia-smi {theirs:.2f}")

    def moving(metric, key, scale, tolerance, what, ours=None):
        ours = value(metric, scale) if ours is None else ours
        lo, hi = number(b[key]), number(a[key])
        if lo is None or hi is None or ours is None:
            print(f"n/a   {what}: metricsd {ours}, nvidia-smi {b[key]} / {a[key]}")
            return
        lo, hi = min(lo, hi), max(lo, hi)
        ok = lo - TOLERANCES[tolerance] <= ours <= hi + TOLERANCES[tolerance]
        report(ok, f"{what}: metricsd {ours:.2f}, nvidia-smi {lo:.2f}..{hi:.2f} (±{TOLERANCES[tolerance]})")

    fixed("system_gpu_memory_total_bytes", "memory.total", MIB, "memory total MiB")
    # NVML's v2 query (metricsd's first choice) reports the driver's reservation apart from
    # "used", as recent nvidia-smi does; the v1 fallback counts it in "used".
    used = value("system_gpu_memory_used_bytes", MIB)
    reserved = value("system_gpu_memory_reserved_bytes", MIB)
    smi_reserved = number(b.get("memory.reserved"))
    if used is not None and reserved is None and smi_reserved is not None:
        used -= smi_reserved
    moving("system_gpu_memory_used_bytes", "memory.used", MIB, "used_mib", "memory used MiB", used)
    moving("system_gpu_utilization_percent", "utilization.gpu", 1, "util", "GPU utilisation %")
    moving("system_gpu_memory_utilization_percent", "utilization.memory", 1, "mem_util", "memory utilisation %")
    moving("system_gpu_temperature_celsius", "temperature.gpu", 1, "temp", "temperature °C")
    moving("system_gpu_power_usage_milliwatts", "power.draw", 1000, "power_w", "power draw W")
    fixed("system_gpu_power_limit_milliwatts", "power.limit", 1000, "power limit W")
    moving("system_gpu_clock_sm_mhz", "clocks.sm", 1, "clock_sm", "SM clock MHz")
    moving("system_gpu_clock_memory_mhz", "clocks.mem", 1, "clock_mem", "memory clock MHz")
    moving("system_gpu_fan_speed_percent", "fan.speed", 1, "fan", "fan speed %")
print(f"{failures} difference(s)")
sys.exit(1 if failures else 0)
PY

echo "== CPU per GPU per tick (interval 1 s, ${SECONDS_PER_RUN} s per run)"
gpus=$(nvidia-smi -L | grep -c '^GPU ')
cycles_of() { curl -fsS "http://127.0.0.1:$1/metrics" | awk '$1 == "metricsd_collection_cycles_total" {print $2}'; }
measure() {  # pid port -> "cpu_ns cycles"
  local c0 n0 c1 n1
  c0=$(cpu_ns "$1"); n0=$(cycles_of "$2")
  sleep "$SECONDS_PER_RUN"
  c1=$(cpu_ns "$1"); n1=$(cycles_of "$2")
  echo "$((c1 - c0)) $(awk -v a="$n0" -v b="$n1" 'BEGIN { printf "%.0f", b - a }')"
}
read -r gpu_ns gpu_cycles < <(measure "$GPU_PID" "$PORT")
kill "$GPU_PID"; wait "$GPU_PID" 2>/dev/null || true
BASE_PORT=$(free_port)
write_config "$WORK/none.json" "$BASE_PORT" false
start_metricsd "$WORK/none.json" "$BASE_PORT"
read -r base_ns base_cycles < <(measure "${PIDS[-1]}" "$BASE_PORT")
python3 - "$gpu_ns" "$gpu_cycles" "$base_ns" "$base_cycles" "$gpus" <<'PY'
import sys
gpu_ns, gpu_cycles, base_ns, base_cycles, gpus = map(int, sys.argv[1:])
with_gpu = gpu_ns / max(gpu_cycles, 1)
without = base_ns / max(base_cycles, 1)
print(f"metricsd, GPU collector only: {with_gpu / 1000:.1f} us CPU per tick ({gpu_cycles} ticks)")
print(f"metricsd, no collector:       {without / 1000:.1f} us CPU per tick ({base_cycles} ticks)")
print(f"GPU collector: {(with_gpu - without) / 1000 / gpus:.1f} us CPU per GPU per tick ({gpus} GPU(s))")
PY
exit "$rc"
