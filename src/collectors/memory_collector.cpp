#include "collectors/memory_collector.h"

#include <utility>
#include <vector>

#include "procfs/proc_meminfo.h"

namespace metricsd {

namespace {

double Percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

MemoryCollector::MemoryCollector(const HostPaths& paths)
    : meminfo_file_(paths.Proc("meminfo"), 8 * 1024, procfs::ProcFile::ReadMode::kSingleShot) {}

CollectResult MemoryCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void MemoryCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  auto text = meminfo_file_.Read();
  if (!text.ok()) {
    result = CollectResult::Transient(text.error());
    return;
  }
  procfs::MemInfo m;
  if (!procfs::ParseMeminfo(*text, m)) {
    result = CollectResult::Transient(meminfo_file_.path() + ": no MemTotal");
    return;
  }
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  const std::uint64_t used = m.UsedBytes();
  const std::uint64_t swap_used = m.SwapUsedBytes();

  FamilyWriter out(result.families, ctx.wall_ms);
  const auto gauge = [&out](std::string_view name, std::string_view help, double value) {
    out.Family(name, help, MetricType::kGauge).Add(value);
  };
  gauge("system_memory_total_bytes", "Total usable RAM (MemTotal).", d(m.mem_total));
  gauge("system_memory_used_bytes",
        "RAM in use: total - free - buffers - page cache - reclaimable slab.", d(used));
  gauge("system_memory_free_bytes", "Completely unused RAM (MemFree).", d(m.mem_free));
  gauge("system_memory_available_bytes",
        "RAM available for new work without swapping (MemAvailable; estimated on kernels "
        "before 3.14).",
        d(m.AvailableBytes()));
  gauge("system_memory_buffers_bytes", "Block device buffers (Buffers).", d(m.buffers));
  gauge("system_memory_cached_bytes", "Page cache (Cached).", d(m.cached));
  gauge("system_memory_usage_percent", "Used RAM as a percentage of total.",
        Percent(used, m.mem_total));
  if (m.has(procfs::MemInfo::kSwapTotal)) {
    gauge("system_swap_total_bytes", "Total swap space (SwapTotal).", d(m.swap_total));
    gauge("system_swap_used_bytes", "Swap space in use (SwapTotal - SwapFree).", d(swap_used));
    gauge("system_swap_free_bytes", "Unused swap space (SwapFree).", d(m.swap_free));
    gauge("system_swap_usage_percent", "Used swap as a percentage of total; 0 without swap.",
          Percent(swap_used, m.swap_total));
  }
  out.Finish();
}

}  // namespace metricsd
