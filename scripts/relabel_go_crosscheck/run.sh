#!/usr/bin/env bash
# Checks the relabel engine against Go 1.19 (the Go of Prometheus 2.42) on random cases:
#   bash scripts/relabel_go_crosscheck/run.sh [build-dir] [cases] [seed]
# Needs Debian's golang-1.19-go and a build dir with metricsd_relabel built. Not part of
# CI: a development check for changes to matching, expansion or case mapping.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
GO=/usr/lib/go-1.19/bin/go
HOME=$work GOCACHE=$work/gocache GO111MODULE=off \
  "$GO" run scripts/relabel_go_crosscheck/cases.go "${2:-50000}" "${3:-1}" > "$work/cases.txt"
g++ -std=c++20 -O1 -Isrc scripts/relabel_go_crosscheck/check.cpp \
  "$build/src/relabel/libmetricsd_relabel.a" "$build/src/core/libmetricsd_core.a" \
  /usr/lib/x86_64-linux-gnu/libre2.a -pthread -o "$work/check"
"$work/check" < "$work/cases.txt"
