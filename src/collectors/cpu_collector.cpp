#include "collectors/cpu_collector.h"

#include <unistd.h>

#include <string>
#include <utility>

namespace metricsd {

namespace {

double TicksPerSecond() {
  const long hz = ::sysconf(_SC_CLK_TCK);
  return static_cast<double>(hz > 0 ? hz : 100);
}

// Updates `percent` from the ticks that passed; keeps the last value when none did.
void UpdatePercent(const procfs::CpuTimes& now, procfs::CpuTimes& previous, double& percent) {
  const double p = procfs::BusyPercent(now - previous);
  if (p >= 0) {
    percent = p;
  }
  previous = now;
}

}  // namespace

CpuCollector::CpuCollector(const HostPaths& paths)
    : CpuCollector(paths, std::make_shared<ProcStatSource>(paths)) {}

CpuCollector::CpuCollector(const HostPaths& /*paths*/, std::shared_ptr<ProcStatSource> stat)
    : source_(std::move(stat)), ticks_per_second_(TicksPerSecond()) {
  if (source_->Read(stat_).ok() && (stat_.has_total || !stat_.cpus.empty())) {
    if (stat_.has_total) {
      total_previous_ = stat_.total;
      has_total_baseline_ = true;
    }
    SyncCores();
  }
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
    // A CPU seen for the first time (or back online): its current counters are the baseline.
    Core core;
    core.cpu = cpu.cpu;
    core.previous = cpu.times;
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
    if (has_total_baseline_) {
      UpdatePercent(stat_.total, total_previous_, total_percent_);
    } else {
      total_previous_ = stat_.total;
      has_total_baseline_ = true;
    }
  }
  // Per-core percentages first: the family is written after the count and the total.
  for (std::size_t i = 0; i < cores_.size(); ++i) {
    UpdatePercent(stat_.cpus[i].times, cores_[i].previous, cores_[i].percent);
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("system_cpu_count", "Number of online logical CPUs.", MetricType::kGauge)
      .Add(static_cast<double>(stat_.cpus.size()));

  out.Family("system_cpu_usage_total_percent",
             "Busy share of all CPUs since the previous collection, in percent "
             "(from the aggregate cpu line of /proc/stat).",
             MetricType::kGauge);
  if (total_percent_ >= 0) {
    out.Add(total_percent_);
  }

  out.Family("system_cpu_usage_percent",
             "Busy share of one CPU since the previous collection, in percent; "
             "core is the kernel's CPU number.",
             MetricType::kGauge);
  for (const Core& core : cores_) {
    if (core.percent >= 0) {
      out.Add(core.percent, core.core_labels);
    }
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
