#include "collectors/host_collector.h"

#include <string>
#include <utility>
#include <vector>

#include "procfs/proc_loadavg.h"
#include "procfs/proc_uptime.h"

namespace metricsd {

namespace {

MetricFamily Make(const char* name, const char* help, MetricType type, double value,
                  std::int64_t ts) {
  return FamilyBuilder(name, help, type, ts).Add(value).Build();
}

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
  const std::int64_t ts = ctx.wall_ms;
  std::vector<MetricFamily> families;
  families.reserve(11);
  std::string failures;

  if (auto text = uptime_file_.Read(); text.ok()) {
    procfs::Uptime uptime;
    if (procfs::ParseUptime(*text, uptime)) {
      families.push_back(Make("system_uptime_seconds", "Time since boot, in seconds.",
                              MetricType::kGauge, uptime.uptime_seconds, ts));
    } else {
      AddFailure(failures, uptime_file_.path() + ": unparsable");
    }
  } else {
    AddFailure(failures, text.error());
  }

  if (Status status = source_->Get(ctx.steady_now, stat_); status.ok()) {
    if (stat_.has_boot_time) {
      families.push_back(Make("system_boot_time_seconds",
                              "Boot time, in seconds since the Unix epoch (btime).",
                              MetricType::kGauge, static_cast<double>(stat_.boot_time), ts));
    }
    families.push_back(Make("system_procs_running", "Threads runnable or running on a CPU.",
                            MetricType::kGauge, static_cast<double>(stat_.procs_running), ts));
    families.push_back(Make("system_procs_blocked", "Threads blocked waiting for I/O.",
                            MetricType::kGauge, static_cast<double>(stat_.procs_blocked), ts));
    families.push_back(Make("system_forks_total", "Processes and threads created since boot.",
                            MetricType::kCounter, static_cast<double>(stat_.forks), ts));
    families.push_back(Make("system_context_switches_total", "Context switches since boot.",
                            MetricType::kCounter, static_cast<double>(stat_.context_switches), ts));
  } else {
    AddFailure(failures, status.error());
  }

  if (auto text = loadavg_file_.Read(); text.ok()) {
    procfs::LoadAvg load;
    if (procfs::ParseLoadAvg(*text, load)) {
      families.push_back(
          Make("system_load_1", "Load average over 1 minute.", MetricType::kGauge, load.load1, ts));
      families.push_back(Make("system_load_5", "Load average over 5 minutes.", MetricType::kGauge,
                              load.load5, ts));
      families.push_back(Make("system_load_15", "Load average over 15 minutes.", MetricType::kGauge,
                              load.load15, ts));
    } else {
      AddFailure(failures, loadavg_file_.path() + ": unparsable");
    }
  } else {
    AddFailure(failures, text.error());
  }

  if (auto count = pids_.Count(); count.ok()) {
    families.push_back(Make("system_procs_total", "Processes (not threads) that exist now.",
                            MetricType::kGauge, static_cast<double>(*count), ts));
  } else {
    AddFailure(failures, count.error());
  }

  if (families.empty()) {
    return CollectResult::Transient(std::move(failures));
  }
  CollectResult result = CollectResult::Ok(std::move(families));
  result.message = std::move(failures);
  return result;
}

}  // namespace metricsd
