#include "collectors/pressure_collector.h"

#include <cerrno>
#include <utility>

#include "procfs/proc_pressure.h"

namespace metricsd {

namespace {

struct ResourceSpec {
  const char* name;
  const char* some_help;
  const char* full_help;
};

constexpr ResourceSpec kResources[] = {
    {"cpu", "Time in which at least one runnable task waited for a CPU, in seconds.",
     "Time in which all non-idle tasks waited for a CPU at once, in seconds."},
    {"memory", "Time in which at least one task stalled on memory, in seconds.",
     "Time in which all non-idle tasks stalled on memory at once, in seconds."},
    {"io", "Time in which at least one task stalled on I/O, in seconds.",
     "Time in which all non-idle tasks stalled on I/O at once, in seconds."},
    {"irq", "Time in which at least one task stalled on IRQ/softirq work, in seconds.",
     "Time in which CPUs were taken by IRQ/softirq work, in seconds."},
};

bool MeansNotSupported(int err) { return err == ENOENT || err == EOPNOTSUPP || err == ENOTDIR; }

}  // namespace

PressureCollector::PressureCollector(const HostPaths& paths, NameProfile profile)
    : profile_(profile) {
  resources_.reserve(std::size(kResources));
  for (const ResourceSpec& spec : kResources) {
    const std::string resource = spec.name;
    std::string some_name;
    std::string full_name;
    if (profile == NameProfile::kNodeExporter) {
      // node_exporter 1.5: "waiting" is the some line, "stalled" the full line; it reads
      // neither cpu's full line nor the irq file.
      if (resource == "irq") {
        continue;
      }
      some_name = "node_pressure_" + resource + "_waiting_seconds_total";
      if (resource != "cpu") {
        full_name = "node_pressure_" + resource + "_stalled_seconds_total";
      }
    } else {
      some_name = "system_pressure_" + resource + "_some_seconds_total";
      full_name = "system_pressure_" + resource + "_full_seconds_total";
    }
    resources_.push_back(Resource{
        .some_name = std::move(some_name),
        .full_name = std::move(full_name),
        .some_help = spec.some_help,
        .full_help = spec.full_help,
        .file = procfs::ProcFile(paths.Proc("pressure/" + resource), 256,
                                 procfs::ProcFile::ReadMode::kSingleShot),
    });
  }
}

CollectResult PressureCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void PressureCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  FamilyWriter out(result.families, ctx.wall_ms);
  std::string& failures = result.message;
  bool any_present = false;
  bool any_written = false;
  for (Resource& r : resources_) {
    if (r.gone) {
      continue;
    }
    auto text = r.file.Read();
    if (!text.ok()) {
      if (MeansNotSupported(r.file.last_errno())) {
        r.gone = true;
        continue;
      }
      any_present = true;
      failures += failures.empty() ? text.error() : "; " + text.error();
      continue;
    }
    any_present = true;
    procfs::Pressure p;
    if (!procfs::ParsePressureTotals(*text, p)) {
      failures += (failures.empty() ? "" : "; ") + r.file.path() + ": unparsable";
      continue;
    }
    // node_exporter divides twice (by 1000, then 1000), which can round differently from one
    // division by 1e6: the profile repeats its arithmetic so that values are equal to the bit.
    const auto seconds = [this](std::uint64_t us) {
      const double v = static_cast<double>(us);
      return profile_ == NameProfile::kNodeExporter ? v / 1000.0 / 1000.0 : v / 1e6;
    };
    if (p.has_some) {
      out.Family(r.some_name, r.some_help, MetricType::kCounter).Add(seconds(p.some.total_us));
      any_written = true;
    }
    if (p.has_full && !r.full_name.empty()) {
      out.Family(r.full_name, r.full_help, MetricType::kCounter).Add(seconds(p.full.total_us));
      any_written = true;
    }
  }
  out.Finish();
  if (!any_present) {
    result = CollectResult::NotApplicable("no pressure stall information (PSI) in this kernel");
  } else if (!any_written) {
    result.status = CollectStatus::kTransient;
  }
}

}  // namespace metricsd
