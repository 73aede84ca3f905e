// Collector: one source of samples (CPU, memory, a GPU, a set of scrape targets ...).
//
// The scheduler calls Collect() from one thread at a time, once per tick, with the tick's
// time. A collector returns the families it took, or says why it took none:
//   kOk            samples were taken (possibly partial; families may still be empty);
//   kTransient     this tick failed, try again next tick (log once per state change);
//   kNotApplicable the source does not exist here (no NVML, no PSI): disable quietly.
// Collectors keep their own state between ticks (previous counters for rates, open
// files) and never sleep inside Collect().
//
// CollectInto() is the same with storage handed back: the families this collector returned
// on an earlier tick, which nobody reads any more. Collectors that override it write the new
// tick over them (see FamilyWriter), so that a tick whose series did not change allocates
// nothing; the default just calls Collect().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"

namespace metricsd {

struct CollectContext {
  std::chrono::steady_clock::time_point steady_now;
  std::int64_t wall_ms = 0;  // sample timestamp for everything taken this tick
};

enum class CollectStatus { kOk, kTransient, kNotApplicable };

// The names a host collector writes: metricsd's own (system_*) or node_exporter 1.5's
// (node_*); see collector.naming.
enum class NameProfile { kMetricsd, kNodeExporter };

struct CollectResult {
  CollectStatus status = CollectStatus::kOk;
  std::string message;  // why, when status is not kOk (or a partial failure)
  std::vector<MetricFamily> families;

  static CollectResult Ok(std::vector<MetricFamily> families) {
    return {CollectStatus::kOk, {}, std::move(families)};
  }
  static CollectResult Transient(std::string why) {
    return {CollectStatus::kTransient, std::move(why), {}};
  }
  static CollectResult NotApplicable(std::string why) {
    return {CollectStatus::kNotApplicable, std::move(why), {}};
  }
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Stable short name ("cpu", "memory", "gpu", "scrape") used in logs and self-metrics.
  virtual std::string_view name() const = 0;
  virtual CollectResult Collect(const CollectContext& ctx) = 0;
  // On entry `result` is {kOk, no message, families from an earlier tick of this collector
  // or none}; on return it holds what Collect() would have returned.
  virtual void CollectInto(const CollectContext& ctx, CollectResult& result) {
    result = Collect(ctx);
  }
};

}  // namespace metricsd
