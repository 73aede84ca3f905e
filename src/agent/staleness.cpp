#include "agent/staleness.h"

#include <functional>
#include <string_view>

namespace metricsd {

namespace {

std::uint64_t Mix(std::uint64_t seed, std::string_view text) {
  // boost::hash_combine's mixing over std::hash: cheap, and good enough that a collision
  // (which would only cost one missing marker) is not a concern.
  const std::uint64_t h = std::hash<std::string_view>{}(text);
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

std::uint64_t SeriesKey(const Sample& sample) {
  std::uint64_t key = Mix(0, sample.name);
  for (const Label& label : sample.labels) {
    key = Mix(Mix(key, label.name), label.value);
  }
  return key;
}

}  // namespace

std::size_t StalenessTracker::Cycle(const std::vector<MetricFamily>& families, std::int64_t wall_ms,
                                    ShippedBatch& batch) {
  ++cycle_;
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      auto [it, added] = series_.try_emplace(SeriesKey(sample));
      if (added) {
        it->second = Series{family.name, family.type, sample.name, sample.labels, cycle_};
      } else {
        it->second.cycle = cycle_;
      }
    }
  }
  std::size_t marked = 0;
  std::vector<LabelView> views;
  for (auto it = series_.begin(); it != series_.end();) {
    const Series& gone = it->second;
    if (gone.cycle == cycle_) {
      ++it;
      continue;
    }
    views.clear();
    for (const Label& label : gone.labels) {
      views.push_back(LabelView{label.name, label.value});
    }
    batch.Add(gone.family, "", gone.type, gone.name, views, StaleNaN(), wall_ms);
    ++marked;
    it = series_.erase(it);
  }
  return marked;
}

}  // namespace metricsd
