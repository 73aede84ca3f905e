// HostCollector: uptime, boot time, load averages and process counts.
//
// Sources: /proc/uptime (uptime, a gauge: it restarts at boot), /proc/stat (btime, the
// stable boot time; procs_running, procs_blocked; forks and context switches),
// /proc/loadavg, and the number of numeric directories in /proc (processes, not threads).
// Each source fails alone: the others are still reported, with the failure in the message.
// Not thread-safe (one Collect() at a time).
#pragma once

#include <memory>
#include <string_view>

#include "collectors/collector.h"
#include "collectors/proc_stat_source.h"
#include "core/host_paths.h"
#include "procfs/proc_file.h"
#include "procfs/proc_pids.h"
#include "procfs/proc_stat.h"

namespace metricsd {

class HostCollector final : public Collector {
 public:
  explicit HostCollector(const HostPaths& paths);
  // Shares one /proc/stat read per tick with the CPU collector.
  HostCollector(const HostPaths& paths, std::shared_ptr<ProcStatSource> stat);

  std::string_view name() const override { return "host"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  procfs::ProcFile uptime_file_;
  procfs::ProcFile loadavg_file_;
  std::shared_ptr<ProcStatSource> source_;
  procfs::ProcPidCounter pids_;
  procfs::ProcStat stat_;  // this tick's parse, reused across ticks
};

}  // namespace metricsd
