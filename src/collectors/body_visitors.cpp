#include "collectors/body_visitors.h"

#include <algorithm>

namespace metricsd {

void MarkIfGone(const std::vector<std::uint64_t>& gone, std::vector<bool>& marked,
                std::string_view family, MetricType type, std::string_view name,
                std::span<const LabelView> labels, ScrapeSampleSink& sink, std::int64_t wall_ms) {
  const std::uint64_t key = SeriesTracker::Key(name, labels);
  auto it = std::lower_bound(gone.begin(), gone.end(), key);
  if (it == gone.end() || *it != key) {
    return;
  }
  const auto at = static_cast<std::size_t>(it - gone.begin());
  if (!marked[at]) {
    marked[at] = true;
    sink.Add(family, "", type, name, labels, StaleNaN(), wall_ms);
  }
}

}  // namespace metricsd
