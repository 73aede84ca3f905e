// The default host collectors' families, read from this machine's /proc and /sys: the
// input of the benchmarks of what a cycle does after collecting.
#pragma once

#include <chrono>
#include <vector>

#include "agent/agent.h"

namespace metricsd {

inline std::vector<MetricFamily> HostFamilies() {
  config::Config config;
  config.collector.enable_gpu = false;
  CollectorRunner runner(BuildSystemCollectors(config, HostPaths{}));
  CollectContext ctx{.steady_now = std::chrono::steady_clock::now(), .wall_ms = 1};
  runner.RunOnce(ctx);  // rates need a previous tick
  ctx.steady_now = std::chrono::steady_clock::now();
  return runner.RunOnce(ctx);
}

}  // namespace metricsd
