#include "collectors/host_collector.h"

#include <string>
#include <utility>
#include <vector>

#include "procfs/proc_loadavg.h"
#include "procfs/proc_uptime.h"

namespace metricsd {

namespace {

void AddFailure(std::string& message, const std::string& why) {
  if (!message.empty()) {
    message += "; ";
  }
  message += why;
}

}  // namespace

HostCollector::HostCollector(const HostPaths& paths)
    : HostCollector(paths, std::make_shared<ProcStatSource>(paths)) {}

HostCollector::HostCollector(const HostPaths& paths, std::shared_ptr<ProcStatSource> stat)
    : uptime_file_(paths.Proc("uptime"), 256, procfs::ProcFile::ReadMode::kSingleShot),
      loadavg_file_(paths.Proc("loadavg"), 256, procfs::ProcFile::ReadMode::kSingleShot),
      source_(std::move(stat)),
      pids_(paths.proc) {}

CollectResult HostCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void HostCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  FamilyWriter out(result.families, ctx.wall_ms);
  std::string& failures = result.message;
  bool any = false;
  const auto write = [&](std::string_view name, std::string_view help, MetricType type,
                         double value) {
    out.Family(name, help, type).Add(value);
    any = true;
  };

  if (auto text = uptime_file_.Read(); text.ok()) {
    procfs::Uptime uptime;
    if (procfs::ParseUptime(*text, uptime)) {
      write("system_uptime_seconds", "Time since boot, in seconds.", MetricType::kGauge,
            uptime.uptime_seconds);
    } else {
      AddFailure(failures, uptime_file_.path() + ": unparsable");
    }
  } else {
    AddFailure(failures, text.error());
  }

  if (Status status = source_->Get(ctx.steady_now, stat_); status.ok()) {
    if (stat_.has_boot_time) {
      write("system_boot_time_seconds", "Boot time, in seconds since the Unix epoch (btime).",
            MetricType::kGauge, static_cast<double>(stat_.boot_time));
    }
    write("system_procs_running", "Threads runnable or running on a CPU.", MetricType::kGauge,
          static_cast<double>(stat_.procs_running));
    write("system_procs_blocked", "Threads blocked waiting for I/O.", MetricType::kGauge,
          static_cast<double>(stat_.procs_blocked));
    write("system_forks_total", "Processes and threads created since boot.", MetricType::kCounter,
          static_cast<double>(stat_.forks));
    write("system_context_switches_total", "Context switches since boot.", MetricType::kCounter,
          static_cast<double>(stat_.context_switches));
  } else {
    AddFailure(failures, status.error());
  }

  if (auto text = loadavg_file_.Read(); text.ok()) {
    procfs::LoadAvg load;
    if (procfs::ParseLoadAvg(*text, load)) {
      write("system_load_1", "Load average over 1 minute.", MetricType::kGauge, load.load1);
      write("system_load_5", "Load average over 5 minutes.", MetricType::kGauge, load.load5);
      write("system_load_15", "Load average over 15 minutes.", MetricType::kGauge, load.load15);
    } else {
      AddFailure(failures, loadavg_file_.path() + ": unparsable");
    }
  } else {
    AddFailure(failures, text.error());
  }

  if (auto count = pids_.Count(); count.ok()) {
    write("system_processes", "Processes (not threads) that exist now.", MetricType::kGauge,
          static_cast<double>(*count));
  } else {
    AddFailure(failures, count.error());
  }
  out.Finish();

  if (!any) {
    result.status = CollectStatus::kTransient;
  }
}

}  // namespace metricsd
