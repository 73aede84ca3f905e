// StalenessTracker: remembers the series of the last system collection cycle, so that a
// series missing from the next one (an unmounted filesystem, a removed interface or disk, a
// collector that failed, or one that a reload switched off) gets Prometheus' staleness marker
// in the shipped batch and ends at once in the receiver, instead of lingering for the query
// lookback (5 minutes). Only remote write carries the marker; the JSON and Influx encoders
// skip NaN, and /metrics simply stops showing the series.
//
// One per collecting thread, handed to the next agent on a reload. A series is known by a
// 64-bit hash of its name and labels; only new series are copied, so a steady host costs one
// hash and one lookup per sample per cycle.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/shipped_batch.h"
#include "core/metric.h"

namespace metricsd {

class StalenessTracker {
 public:
  // Records this cycle's series and adds a staleness marker at `wall_ms` to `batch` for each
  // series of the previous cycle that is gone. Returns how many were marked.
  std::size_t Cycle(const std::vector<MetricFamily>& families, std::int64_t wall_ms,
                    ShippedBatch& batch);
  std::size_t tracked() const noexcept { return series_.size(); }

 private:
  struct Series {
    std::string family;
    MetricType type = MetricType::kGauge;
    std::string name;
    Labels labels;
    std::uint64_t cycle = 0;  // the last cycle that had it
  };
  std::unordered_map<std::uint64_t, Series> series_;
  std::uint64_t cycle_ = 0;
};

}  // namespace metricsd
