#!/usr/bin/env bash
# Runs every built fuzz target for SECONDS each, starting from the committed seed corpus.
# Builds nothing: configure and build first (see fuzz/CMakeLists.txt).
#   fuzz/run_fuzzers.sh SECONDS [BUILD_DIR]     (BUILD_DIR defaults to build-fuzz)
# New corpus entries go to a scratch directory, never into fuzz/corpus. A crash leaves its
# input in $FUZZ_ARTIFACTS (default: a scratch directory, printed) and makes the script fail.
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS [BUILD_DIR]" >&2
  exit 2
fi
seconds=$1
here=$(cd "$(dirname "$0")" && pwd)
build=${2:-$here/../build-fuzz}
work=$(mktemp -d)
artifacts=${FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"

status=0
for name in fuzz_prometheus_text fuzz_openmetrics fuzz_json_app fuzz_write_request \
  fuzz_snappy_skeleton fuzz_series_cache fuzz_textfile fuzz_batch_decode fuzz_wal_recover fuzz_http_request; do
  bin=$build/fuzz/$name
  if [[ ! -x $bin ]]; then
    echo "missing $bin (build with -DMETRICSD_FUZZ=ON)" >&2
    status=1
    continue
  fi
  dict=()
  mkdir -p "$here/corpus/$name" 2>/dev/null || true
  if [[ $name == fuzz_prometheus_text || $name == fuzz_openmetrics || $name == fuzz_textfile ]]; then
    dict=(-dict="$here/exposition.dict")
  fi
  mkdir -p "$work/$name"
  echo "== $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "${dict[@]}" \
      "$work/$name" "$here/corpus/$name" 2>"$work/$name.log"; then
    tail -n 60 "$work/$name.log" >&2
    echo "$name FAILED; crash inputs in $artifacts" >&2
    status=1
  else
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' \
      "$work/$name.log" || true
  fi
done
if [[ $status -eq 0 ]]; then
  rm -rf "$work"
fi
exit $status
