// StalenessTracker: the host collectors' series (core/series_tracker.h) turned into
// staleness markers in the shipped batch: a series missing from a system collection cycle
// (an unmounted filesystem, a removed interface or disk, a collector that failed, or one
// that a reload switched off) gets Prometheus' stale NaN at that cycle's time. Only remote
// write carries the marker; the JSON and Influx encoders skip NaN, and /metrics simply stops
// showing the series.
//
// One per collecting thread (the scrape thread tracks its metricsd_scrape_* self-metrics,
// which come every tick for every target), handed to the next agent on a reload. The host has a few
// hundred series, so their labels are simply kept (copied once, when new).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/shipped_batch.h"
#include "core/metric.h"
#include "core/series_tracker.h"

namespace metricsd {

class StalenessTracker {
 public:
  // Tracks only the families whose name starts with `family_prefix` (empty: all).
  explicit StalenessTracker(std::string family_prefix = {})
      : family_prefix_(std::move(family_prefix)) {}

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
  };
  std::string family_prefix_;
  SeriesTracker series_;
  std::unordered_map<std::uint64_t, Series> labels_;  // by key, for the markers
  std::vector<std::uint64_t> gone_;                   // scratch
};

}  // namespace metricsd
