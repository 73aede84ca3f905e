// MemoryCollector: RAM and swap from /proc/meminfo (bytes and percent). Both come from the
// same file read, so HOST_PROC is honoured for swap too. A field the kernel does not print
// is estimated or left out, never NaN: used is clamped at 0, MemAvailable is estimated on
// kernels without it, percentages are 0 when the total is 0 (no swap).
// Not thread-safe (one Collect() at a time).
#pragma once

#include <string_view>

#include "collectors/collector.h"
#include "core/host_paths.h"
#include "procfs/proc_file.h"

namespace metricsd {

class MemoryCollector final : public Collector {
 public:
  explicit MemoryCollector(const HostPaths& paths);

  std::string_view name() const override { return "memory"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  procfs::ProcFile meminfo_file_;
};

}  // namespace metricsd
