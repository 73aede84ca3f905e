#include "collectors/cpu_collector.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

namespace metricsd {

namespace {

double TicksPerSecond() {
  const long hz = ::sysconf(_SC_CLK_TCK);
  return static_cast<double>(hz > 0 ? hz : 100);
}

}  // namespace

CpuCollector::CpuCollector(const HostPaths& paths)
    : CpuCollector(paths, std::make_shared<ProcStatSource>(paths)) {}

// No baseline is read here: the first Collect() comes right after construction, and a
// window of a few milliseconds would give 0 or 100 (or nothing) per core.
CpuCollector::CpuCollector(const HostPaths& /*paths*/, std::shared_ptr<ProcStatSource> stat)
    : source_(std::move(stat)), ticks_per_second_(TicksPerSecond()) {}

void CpuCollector::BusyShare::Update(const procfs::CpuTimes& now,
                                     std::chrono::steady_clock::time_point at) {
  if (!base_at) {
    // The counters count from boot: the since-boot average (0 for a CPU with no ticks yet).
    percent = std::max(0.0, procfs::BusyPercent(now));
  } else if (at - *base_at < kMinWindow) {
    return;  // keep the base, so the next window is long enough
  } else if (const double p = procfs::BusyPercent(now - base); p >= 0) {
    percent = p;
  }  // else no tick passed (an idle NO_HZ CPU, or a stalled reading): repeat the last value
  base = now;
  base_at = at;
}

void CpuCollector::SyncCores() {
  bool same = cores_.size() == stat_.cpus.size();
  for (std::size_t i = 0; same && i < cores_.size(); ++i) {
    same = cores_[i].cpu == stat_.cpus[i].cpu;
  }
  if (same) {
    return;
  }
  std::vector<Core> next;
  next.reserve(stat_.cpus.size());
  std::size_t old = 0;
  for (const procfs::CpuStat& cpu : stat_.cpus) {
    while (old < cores_.size() && cores_[old].cpu < cpu.cpu) {
      ++old;
    }
    if (old < cores_.size() && cores_[old].cpu == cpu.cpu) {
      next.push_back(std::move(cores_[old]));
      continue;
    }
    // A CPU seen for the first time (or back online): no reading yet.
    Core core;
    core.cpu = cpu.cpu;
    const std::string number = std::to_string(cpu.cpu);
    core.core_labels = {{"core", number}};
    for (std::size_t m = 0; m < procfs::kCpuModes.size(); ++m) {
      core.mode_labels[m] = {{"core", number}, {"mode", std::string(procfs::kCpuModes[m].first)}};
    }
    next.push_back(std::move(core));
  }
  cores_ = std::move(next);
}

CollectResult CpuCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void CpuCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = source_->Get(ctx.steady_now, stat_); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  if (!stat_.has_total && stat_.cpus.empty()) {
    result = CollectResult::Transient("/proc/stat: no cpu lines");
    return;
  }
  SyncCores();

  if (stat_.has_total) {
    total_.Update(stat_.total, ctx.steady_now);
  }
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    cores_[i].busy.Update(stat_.cpus[i].times, ctx.steady_now);
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("system_cpu_count", "Number of online logical CPUs.", MetricType::kGauge)
      .Add(static_cast<double>(stat_.cpus.size()));

  out.Family("system_cpu_usage_total_percent",
             "Busy share of all CPUs since the previous collection (since boot on the "
             "first), in percent (from the aggregate cpu line of /proc/stat).",
             MetricType::kGauge);
  if (stat_.has_total) {
    out.Add(total_.percent);
  }

  out.Family("system_cpu_usage_percent",
             "Busy share of one CPU since the previous collection (since boot on the "
             "first), in percent; core is the kernel's CPU number.",
             MetricType::kGauge);
  for (const Core& core : cores_) {
    out.Add(core.busy.percent, core.core_labels);
  }

  out.Family("system_cpu_seconds_total",
             "Time each CPU spent in each mode since boot, in seconds (user and "
             "nice include guest time).",
             MetricType::kCounter);
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    const procfs::CpuTimes& now = stat_.cpus[i].times;
    for (std::size_t m = 0; m < procfs::kCpuModes.size(); ++m) {
      const std::uint64_t ticks = now.*procfs::kCpuModes[m].second;
      out.Add(static_cast<double>(ticks) / ticks_per_second_, cores_[i].mode_labels[m]);
    }
  }
  out.Finish();
}

}  // namespace metricsd
