// Invariants every parser output must hold, checked by the fuzz targets: a violation aborts,
// which libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/metric.h"

namespace metricsd::fuzz {

inline void Check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// Decodes code points (unlike the parser's byte-range tables), so the two cross-check.
inline bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return false;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Families from `first` on: valid names, samples named after their family, labels sorted,
// unique, valid and non-empty. Returns the number of samples.
inline std::size_t CheckFamilies(const std::vector<MetricFamily>& families, std::size_t first) {
  std::size_t samples = 0;
  for (std::size_t i = first; i < families.size(); ++i) {
    const MetricFamily& family = families[i];
    Check(IsValidMetricName(family.name));
    Check(!family.samples.empty());
    Check(ValidUtf8(family.help));
    for (const Sample& sample : family.samples) {
      Check(IsValidMetricName(sample.name));
      Check(sample.name.starts_with(family.name));
      for (std::size_t k = 0; k < sample.labels.size(); ++k) {
        const Label& label = sample.labels[k];
        Check(IsValidLabelName(label.name));
        Check(label.name != "__name__");
        Check(!label.value.empty());
        Check(ValidUtf8(label.value));
        Check(k == 0 || sample.labels[k - 1].name < label.name);
      }
      ++samples;
    }
  }
  return samples;
}

}  // namespace metricsd::fuzz
