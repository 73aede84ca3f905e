#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   bash scripts/dev.sh run    install what is needed, build, run metricsd (embedded default config)
#   bash scripts/dev.sh test   install what is needed, build, run every test (also under ASan+UBSan)
#   bash scripts/dev.sh deps   only install the Debian packages
#   bash scripts/dev.sh build  only build (Release, into build/)
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-$(nproc)}

# Build and test dependencies, all Debian 12 packages. Peers (prometheus, node_exporter,
# VictoriaMetrics) are started by the integration tests and the bench scripts; headless
# chromium opens the status page in an end-to-end test. podman and debootstrap build and run
# the container image and boot the unit under systemd (ctest -L container), without a registry.
PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates curl openssl
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libsnappy-dev zlib1g-dev
  libcpp-httplib-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libprotobuf-dev protobuf-compiler libcrypt-dev
  libre2-dev
  clang libclang-rt-14-dev python3 python3-yaml
  prometheus prometheus-node-exporter victoria-metrics systemd chromium
  podman buildah debootstrap uidmap fuse-overlayfs slirp4netns runc podman-compose
)
RUNTIME_PACKAGES=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libsnappy-dev zlib1g-dev
  libspdlog-dev libfmt-dev libcrypt-dev libre2-dev
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    as_root apt-get update
    # Debian's prometheus packages try to start their services; nothing here needs that.
    as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
      apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  # Package scripts may have started the peers' system services: tests start their own.
  for svc in prometheus prometheus-node-exporter victoria-metrics; do
    if pgrep -x "$svc" >/dev/null 2>&1 && command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
      as_root systemctl stop "$svc" || true
    fi
  done
}

build() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j "$JOBS" ${TARGETS:+--target $TARGETS}
}

case "${1:-}" in
  deps)
    install_packages "${PACKAGES[@]}"
    ;;
  build)
    install_packages "${RUNTIME_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release -DMETRICSD_BUILD_TESTS=OFF -DMETRICSD_BUILD_BENCH=OFF
    ;;
  run)
    install_packages "${RUNTIME_PACKAGES[@]}"
    build build -DCMAKE_BUILD_TYPE=Release -DMETRICSD_BUILD_TESTS=OFF -DMETRICSD_BUILD_BENCH=OFF
    shift
    exec ./build/src/metricsd "$@"
    ;;
  test)
    install_packages "${PACKAGES[@]}"
    echo "== Release build and tests"
    build build-test -DCMAKE_BUILD_TYPE=Release
    ctest --test-dir build-test --output-on-failure -j "$JOBS" --timeout 600
    echo "== ASan+UBSan build and tests"
    build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMETRICSD_SANITIZE=ON -DMETRICSD_BUILD_BENCH=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir build-asan --output-on-failure -j "$JOBS" --timeout 900
    if [ -f fuzz/CMakeLists.txt ]; then
      echo "== fuzz targets (short run)"
      # Only the fuzz targets (and what they link): the daemon itself was built twice above.
      CC=clang CXX=clang++ TARGETS=fuzzers \
        build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMETRICSD_FUZZ=ON \
        -DMETRICSD_SANITIZE=ON -DMETRICSD_BUILD_TESTS=OFF -DMETRICSD_BUILD_BENCH=OFF
      bash fuzz/run_fuzzers.sh "${FUZZ_SECONDS:-20}" build-fuzz
    fi
    ;;
  *)
    echo "usage: bash scripts/dev.sh run|test|deps|build" >&2
    exit 2
    ;;
esac
