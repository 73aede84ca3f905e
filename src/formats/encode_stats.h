// What an encoder had to change or leave out; shippers add these to their counters.
#pragma once

#include <cstddef>

namespace metricsd::formats {

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
  // What was counted between an earlier snapshot `o` and this one.
  friend EncodeStats operator-(EncodeStats a, const EncodeStats& o) {
    a.samples_written -= o.samples_written;
    a.samples_skipped_non_finite -= o.samples_skipped_non_finite;
    a.metric_names_sanitized -= o.metric_names_sanitized;
    a.label_names_sanitized -= o.label_names_sanitized;
    a.empty_labels_dropped -= o.empty_labels_dropped;
    a.duplicate_labels_dropped -= o.duplicate_labels_dropped;
    a.nan_values_normalized -= o.nan_values_normalized;
    return a;
  }
};

}  // namespace metricsd::formats
