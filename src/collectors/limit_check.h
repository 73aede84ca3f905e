// LimitCheck: Prometheus' per-scrape limits (config::ScrapeLimits) applied to samples one at a
// time, for the scrape visitors (body_visitors.h) and the textfile collector. Holds a
// reference to the limits, which must outlive it. Not thread-safe: one body at a time.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "config/options.h"
#include "core/metric.h"

namespace metricsd {

// The longest line of a body, in bytes, for line_length_limit (memchr: a small part of what
// parsing costs).
inline std::size_t LongestLine(std::string_view body) noexcept {
  std::size_t longest = 0;
  while (!body.empty()) {
    const void* nl = std::memchr(body.data(), '\n', body.size());
    const std::size_t len =
        nl == nullptr ? body.size()
                      : static_cast<std::size_t>(static_cast<const char*>(nl) - body.data());
    longest = std::max(longest, len);
    body.remove_prefix(nl == nullptr ? len : len + 1);
  }
  return longest;
}

// Prometheus' per-scrape limits, checked on each sample as it would be stored (prefix and
// target labels applied; the metric name counts as the label __name__). The first limit
// exceeded fails the scrape.
class LimitCheck {
 public:
  explicit LimitCheck(const config::ScrapeLimits& limits) : limits_(limits) {}

  // False once a limit is exceeded; nothing is checked after that.
  bool Admit(std::string_view name, std::span<const LabelView> labels) {
    if (!AdmitKnown()) {
      return false;
    }
    constexpr std::string_view kName = "__name__";
    if (limits_.label_limit != 0 && labels.size() + 1 > limits_.label_limit) {
      return Exceed("label_limit", fmt::format("metric {:.50}: {} labels, limit {}", name,
                                               labels.size() + 1, limits_.label_limit));
    }
    const std::size_t name_limit = limits_.label_name_length_limit;
    const std::size_t value_limit = limits_.label_value_length_limit;
    if (name_limit != 0 && kName.size() > name_limit) {
      return Exceed("label_name_length_limit",
                    fmt::format("label name __name__ is longer than {} bytes", name_limit));
    }
    if (value_limit != 0 && name.size() > value_limit) {
      return Exceed(
          "label_value_length_limit",
          fmt::format("metric {:.50}: name of {} bytes, limit {}", name, name.size(), value_limit));
    }
    for (const LabelView& label : labels) {
      if (name_limit != 0 && label.name.size() > name_limit) {
        return Exceed("label_name_length_limit",
                      fmt::format("metric {:.50}: label name {:.50} of {} bytes, limit {}", name,
                                  label.name, label.name.size(), name_limit));
      }
      if (value_limit != 0 && label.value.size() > value_limit) {
        return Exceed("label_value_length_limit",
                      fmt::format("metric {:.50}: value of label {:.50} of {} bytes, limit {}",
                                  name, label.name, label.value.size(), value_limit));
      }
    }
    return true;
  }
  // A series admitted before (the series cache's): only the sample count can exceed now.
  bool AdmitKnown() {
    if (exceeded_ != nullptr) {
      return false;
    }
    if (limits_.sample_limit != 0 && ++samples_ > limits_.sample_limit) {
      return Exceed("sample_limit", fmt::format("more than {} samples", limits_.sample_limit));
    }
    return true;
  }

  // The limit's key (e.g. "sample_limit"), or null while none was exceeded.
  const char* exceeded() const noexcept { return exceeded_; }
  std::string error() const { return std::string(exceeded_) + " exceeded: " + detail_; }

 private:
  bool Exceed(const char* limit, std::string detail) {
    exceeded_ = limit;
    detail_ = std::move(detail);
    return false;
  }

  const config::ScrapeLimits& limits_;
  std::size_t samples_ = 0;
  const char* exceeded_ = nullptr;
  std::string detail_;
};

}  // namespace metricsd
