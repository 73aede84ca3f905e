// SampleViews: a batch of samples whose strings point at someone else's bytes (the queue's
// encoded records), so that the sender can go from the on-disk queue to the wire without
// building a Sample. Value types over views; the bytes must outlive them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"

namespace metricsd {

// A batch as the queue decodes it, without copying: every string points into the queue
// records it came from, which must outlive it. Samples keep their batch order; consecutive
// samples of a family point at the same Family.
struct SampleViews {
  struct Family {
    std::string_view name;
    std::string_view help;
    MetricType type = MetricType::kGauge;
  };
  struct Entry {
    std::uint32_t family = 0;  // index into families
    std::string_view name;
    std::size_t first_label = 0;  // index into labels
    std::uint32_t label_count = 0;
    double value = 0;
    std::int64_t timestamp_ms = 0;
  };
  std::vector<Family> families;
  std::vector<Entry> samples;
  std::vector<LabelView> labels;

  std::span<const LabelView> LabelsOf(const Entry& e) const noexcept {
    return {labels.data() + e.first_label, e.label_count};
  }
  void clear() noexcept {
    families.clear();
    samples.clear();
    labels.clear();
  }
  // Samples [begin, end) as an owning Batch (consecutive samples of a family grouped).
  std::vector<MetricFamily> ToBatch(std::size_t begin, std::size_t end) const {
    std::vector<MetricFamily> batch;
    std::uint32_t current = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const Entry& e = samples[i];
      if (batch.empty() || e.family != current) {
        const Family& f = families[e.family];
        batch.push_back(MetricFamily{std::string(f.name), std::string(f.help), f.type, {}});
        current = e.family;
      }
      Sample& sample = batch.back().samples.emplace_back();
      sample.name = e.name;
      sample.value = e.value;
      sample.timestamp_ms = e.timestamp_ms;
      for (const LabelView& l : LabelsOf(e)) {
        sample.labels.push_back(Label{std::string(l.name), std::string(l.value)});
      }
    }
    return batch;
  }
};

// Samples [begin, end) of a SampleViews.
struct SampleRange {
  const SampleViews* views = nullptr;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const noexcept { return end - begin; }
};

}  // namespace metricsd
