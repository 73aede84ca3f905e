#!/bin/sh
# Builds a stripped Release metricsd (no tests, no benchmarks) and installs it as
# PREFIX/bin/metricsd. The Docker builder stage runs exactly this; so does CI, outside Docker.
#
# usage: build.sh BUILD_DIR PREFIX
#   BUILD_DIR  configured here when it holds no CMakeCache.txt yet; an existing build tree is
#              reused as it is (CI passes its own, so only the install step costs anything)
#   PREFIX     install prefix, e.g. /out/usr
# JOBS (default: every core) limits the parallel compile jobs.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: build.sh BUILD_DIR PREFIX" >&2
  exit 2
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$1
PREFIX=$2

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  if command -v ninja >/dev/null 2>&1; then
    set -- -G Ninja
  else
    set --
  fi
  cmake -S "$SRC" -B "$BUILD_DIR" "$@" -DCMAKE_BUILD_TYPE=Release \
    -DMETRICSD_BUILD_TESTS=OFF -DMETRICSD_BUILD_BENCH=OFF
fi
cmake --build "$BUILD_DIR" --target metricsd metricsd-net -j "${JOBS:-$(nproc)}"
# The default install component is the binary alone; --strip drops the symbol tables.
cmake --install "$BUILD_DIR" --prefix "$PREFIX" --strip
"$PREFIX/bin/metricsd" -version
