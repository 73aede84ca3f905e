#include "agent/staleness.h"

namespace metricsd {

std::size_t StalenessTracker::Cycle(const std::vector<MetricFamily>& families, std::int64_t wall_ms,
                                    ShippedBatch& batch) {
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      series_.Seen(family, sample);
    }
  }
  return series_.EndRound([&](const SeriesTracker::Gone& gone) {
    batch.Add(gone.family, "", gone.type, gone.name, gone.labels, StaleNaN(), wall_ms);
  });
}

}  // namespace metricsd
