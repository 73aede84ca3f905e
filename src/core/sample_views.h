// SampleViews: a batch of samples whose strings point at someone else's bytes (the queue's
// encoded records, or families built in memory: ViewsOf), so that the sender can go from the
// on-disk queue to the wire without building a Sample, and every encoder reads one shape.
// Value types over views; the bytes must outlive them.
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
// records (or families) it came from, which must outlive it. Samples keep their batch order;
// consecutive samples of a family point at the same Family.
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
};

// Samples [begin, end) of a SampleViews.
struct SampleRange {
  const SampleViews* views = nullptr;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const noexcept { return end - begin; }
};

// Every sample of `views`.
inline SampleRange AllSamples(const SampleViews& views) noexcept {
  return SampleRange{&views, 0, views.samples.size()};
}

// Views over a list of families, in their order, so that owned samples go through the same
// encoders as the queue's records. The families must outlive the result and stay unchanged.
inline SampleViews ViewsOf(std::span<const MetricFamily> families) {
  SampleViews views;
  std::size_t samples = 0;
  std::size_t labels = 0;
  for (const MetricFamily& family : families) {
    samples += family.samples.size();
    for (const Sample& sample : family.samples) {
      labels += sample.labels.size();
    }
  }
  views.families.reserve(families.size());
  views.samples.reserve(samples);
  views.labels.reserve(labels);
  for (const MetricFamily& family : families) {
    const auto family_index = static_cast<std::uint32_t>(views.families.size());
    views.families.push_back({family.name, family.help, family.type});
    for (const Sample& sample : family.samples) {
      views.samples.push_back({family_index, sample.name, views.labels.size(),
                               static_cast<std::uint32_t>(sample.labels.size()), sample.value,
                               sample.timestamp_ms});
      for (const Label& label : sample.labels) {
        views.labels.push_back({label.name, label.value});
      }
    }
  }
  return views;
}

}  // namespace metricsd
