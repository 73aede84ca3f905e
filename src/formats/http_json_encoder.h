// The HTTP JSON payload of the original metricsd, byte for byte:
//   {"timestamp":<unix s>,"metrics":[{"name":"..","value":<number>,"type":"gauge",
//    "labels":{<sorted keys>}},...]}
// compact, no trailing newline, keys in that order. Numbers use the shortest form that
// round-trips, in Go's encoding/json style (exponent only below 1e-6 or from 1e21 on).
// Strings are escaped as Go's encoding/json does (HTML-safe, invalid UTF-8 -> U+FFFD).
// NaN and ±Inf cannot be written in JSON: those samples are left out and counted.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/sample_views.h"
#include "formats/encode_stats.h"

namespace metricsd::formats {

// Replaces `out` with the payload for `samples`.
void EncodeHttpJson(const SampleRange& samples, std::int64_t timestamp_s, std::string& out,
                    EncodeStats& stats);

// Appends a double as Go's encoding/json writes a float64 (finite values only).
void AppendJsonNumber(std::string& out, double value);

// Appends a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace metricsd::formats
