// CpuCollector: CPU utilisation from /proc/stat deltas between ticks, and the raw per-mode
// CPU time counters.
//
// The constructor reads a baseline, so the first Collect() already has percentages; no
// call ever sleeps. Percentages use the busy share (total - idle - iowait) of the ticks that
// passed; when no tick passed (two calls within one USER_HZ tick) the last value is repeated.
// The per-core label is the kernel's CPU number, the total comes from the aggregate "cpu"
// line. Label sets are built when the set of online CPUs changes, not every tick.
// Not thread-safe (the scheduler calls Collect() from one thread at a time).
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/proc_stat_source.h"
#include "core/host_paths.h"
#include "procfs/proc_stat.h"

namespace metricsd {

class CpuCollector final : public Collector {
 public:
  explicit CpuCollector(const HostPaths& paths);
  // Shares one /proc/stat read per tick with the host collector.
  CpuCollector(const HostPaths& paths, std::shared_ptr<ProcStatSource> stat);

  std::string_view name() const override { return "cpu"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  struct Core {
    int cpu = 0;
    procfs::CpuTimes previous;
    double percent = -1;                                       // < 0: not known yet
    Labels core_labels;                                        // {core="N"}
    std::array<Labels, procfs::kCpuModes.size()> mode_labels;  // {core="N", mode="..."}
  };

  // Matches cores_ to the CPUs of stat_, keeping the state of CPUs that stay online.
  void SyncCores();

  std::shared_ptr<ProcStatSource> source_;
  procfs::ProcStat stat_;    // parse target, reused across ticks
  double ticks_per_second_;  // USER_HZ
  bool has_total_baseline_ = false;
  procfs::CpuTimes total_previous_;
  double total_percent_ = -1;
  std::vector<Core> cores_;  // ascending CPU numbers, as in /proc/stat
};

}  // namespace metricsd
