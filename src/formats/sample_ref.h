// A flat view of a batch for the encoders: each entry points at one sample and the family
// it belongs to (for its type). Views only; the families must outlive the refs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/metric.h"

namespace metricsd::formats {

struct SampleRef {
  const MetricFamily* family;
  const Sample* sample;
};

// Replaces `out` with one ref per sample, in batch order. Reuses out's capacity.
inline void FlattenFamilies(std::span<const MetricFamily> families, std::vector<SampleRef>& out) {
  out.clear();
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      out.push_back(SampleRef{&family, &sample});
    }
  }
}

// What an encoder had to change or leave out; shippers add these to their counters.
struct EncodeStats {
  std::size_t samples_written = 0;
  std::size_t samples_skipped_non_finite = 0;  // NaN/Inf where the format cannot carry them
  std::size_t metric_names_sanitized = 0;
  std::size_t label_names_sanitized = 0;
  std::size_t empty_labels_dropped = 0;
  std::size_t duplicate_labels_dropped = 0;
  std::size_t nan_values_normalized = 0;

  EncodeStats& operator+=(const EncodeStats& o) {
    samples_written += o.samples_written;
    samples_skipped_non_finite += o.samples_skipped_non_finite;
    metric_names_sanitized += o.metric_names_sanitized;
    label_names_sanitized += o.label_names_sanitized;
    empty_labels_dropped += o.empty_labels_dropped;
    duplicate_labels_dropped += o.duplicate_labels_dropped;
    nan_values_normalized += o.nan_values_normalized;
    return *this;
  }
};

}  // namespace metricsd::formats
