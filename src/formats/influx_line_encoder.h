// InfluxDB line protocol encoder: one line per sample,
//   <measurement>[,<tag>=<value>...] value=<float> <timestamp>\n
// measurement = the sample name, tags = its labels (sorted, empty values left out),
// a single float field "value". Escaping: measurement `,` and space; tag keys and values
// `,` `=` and space; a backslash that would otherwise escape the next separator is doubled.
// Line breaks cannot be carried by the protocol and become spaces. NaN/±Inf samples are
// skipped and counted (the protocol has no representation for them).
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/sample_views.h"
#include "formats/encode_stats.h"

namespace metricsd::formats {

enum class InfluxPrecision { kNanoseconds, kMicroseconds, kMilliseconds, kSeconds };

// The precision named by a `precision=` query parameter of a write URL (ns, u/us, ms, s);
// nanoseconds, the protocol's default, when absent.
InfluxPrecision InfluxPrecisionFromUrl(std::string_view url) noexcept;

// Replaces `out` with the lines for `samples`.
void EncodeInfluxLines(const SampleRange& samples, InfluxPrecision precision, std::string& out,
                       EncodeStats& stats);

}  // namespace metricsd::formats
