#include "agent/staleness.h"

namespace metricsd {

std::size_t StalenessTracker::Cycle(const std::vector<MetricFamily>& families, std::int64_t wall_ms,
                                    ShippedBatch& batch) {
  for (const MetricFamily& family : families) {
    if (!family.name.starts_with(family_prefix_)) {
      continue;
    }
    for (const Sample& sample : family.samples) {
      const std::uint64_t key = SeriesTracker::Key(sample);
      if (series_.Seen(key)) {
        labels_[key] = Series{family.name, family.type, sample.name, sample.labels};
      }
    }
  }
  series_.EndRound(gone_);
  std::vector<LabelView> views;
  for (std::uint64_t key : gone_) {
    auto it = labels_.find(key);
    if (it == labels_.end()) {
      continue;
    }
    const Series& s = it->second;
    ViewLabels(s.labels, views);
    batch.Add(s.family, "", s.type, s.name, views, StaleNaN(), wall_ms);
    labels_.erase(it);
  }
  return gone_.size();
}

}  // namespace metricsd
