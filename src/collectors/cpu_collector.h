// CpuCollector: CPU utilisation from /proc/stat deltas between ticks, and the raw per-mode
// CPU time counters.
//
// Percentages are the busy share (total - idle - iowait) of the ticks that passed since the
// previous reading at least kMinWindow old. Every online CPU always has one: a CPU without an
// earlier reading (the first Collect(), a CPU coming online) gets its since-boot average (its
// counters are the delta from zero), and a reading too close to the previous one, or one in
// which no tick passed, repeats the last value. A window of a few ticks would read 0 or 100;
// no call ever sleeps.
// The per-core label is the kernel's CPU number, the total comes from the aggregate "cpu"
// line. Label sets are built when the set of online CPUs changes, not every tick.
// Not thread-safe (the scheduler calls Collect() from one thread at a time).
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
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

  // Shortest window a percentage is computed over: 50 ticks at USER_HZ 100, and short enough
  // that a 1 s interval with scheduling jitter never skips a tick.
  static constexpr std::chrono::milliseconds kMinWindow{500};

  std::string_view name() const override { return "cpu"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  // The busy percentage of one /proc/stat cpu line.
  struct BusyShare {
    void Update(const procfs::CpuTimes& now, std::chrono::steady_clock::time_point at);

    procfs::CpuTimes base;  // the reading the next window starts from
    std::optional<std::chrono::steady_clock::time_point> base_at;  // none: no reading yet
    double percent = 0;
  };

  struct Core {
    int cpu = 0;
    BusyShare busy;
    Labels core_labels;                                        // {core="N"}
    std::array<Labels, procfs::kCpuModes.size()> mode_labels;  // {core="N", mode="..."}
  };

  // Matches cores_ to the CPUs of stat_, keeping the state of CPUs that stay online.
  void SyncCores();

  std::shared_ptr<ProcStatSource> source_;
  procfs::ProcStat stat_;    // parse target, reused across ticks
  double ticks_per_second_;  // USER_HZ
  BusyShare total_;          // the aggregate "cpu" line
  std::vector<Core> cores_;  // ascending CPU numbers, as in /proc/stat
};

}  // namespace metricsd
