// PressureCollector: Linux pressure stall information from /proc/pressure/{cpu,memory,io,irq}
// as cumulative stall seconds (system_pressure_<resource>_<some|full>_seconds_total), or under
// node_exporter's names (node_pressure_<resource>_<waiting|stalled>_seconds_total).
//
// Kernels without PSI (before 4.20, or booted with psi=0) have no such files or refuse to
// read them (EOPNOTSUPP): the collector then reports kNotApplicable. A resource that one
// kernel lacks (irq before 6.1) is simply left out. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "core/host_paths.h"
#include "procfs/proc_file.h"

namespace metricsd {

class PressureCollector final : public Collector {
 public:
  explicit PressureCollector(const HostPaths& paths, NameProfile profile = NameProfile::kMetricsd);

  std::string_view name() const override {
    return profile_ == NameProfile::kMetricsd ? "pressure" : "node_pressure";
  }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  struct Resource {
    std::string some_name;  // metric names, built once
    std::string full_name;  // empty: the full line is not reported
    const char* some_help;
    const char* full_help;
    procfs::ProcFile file;
    bool gone = false;  // the kernel has no such file: stop asking
  };
  NameProfile profile_;
  std::vector<Resource> resources_;
};

}  // namespace metricsd
