// The JSON application format: a status document whose numbers become gauges.
//
// {"requests": 10, "db": {"up": true, "pool": {"idle": 3}}, "shards": [4, 5]} with prefix
// "app_" gives app_requests 10, app_db_up 1, app_db_pool_idle 3, app_shards_0 4,
// app_shards_1 5. Rules (docs/scrape-formats.md has the full list):
// - object keys are joined with '_' under the prefix; array elements use their index;
// - numbers become gauges, booleans 0/1; strings (even "42"), null and empty containers are
//   ignored: a string is not a number, and guessing would make a metric's type depend on data;
// - the name is SanitizeMetricName(prefix + path); when two paths give the same name the last
//   value wins (as the seed did for duplicate keys);
// - the document's top level may be an object or an array; a top-level scalar gives nothing.
// Hostile input is bounded: containers deeper than max_depth are skipped, as are names longer
// than max_name_length and samples past max_samples (each counted in stats.invalid_lines).
// Parsing streams SAX events (no DOM), so cost is linear in the body.
//
// Invalid JSON (syntax, invalid UTF-8, a number outside double's range) rejects the document
// as a whole: an error is returned and `out` is left as it was.
// Every sample gets no labels and `timestamp_ms`. Pure function, thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "core/result.h"
#include "formats/exposition_parser.h"

namespace metricsd {

struct JsonAppLimits {
  std::size_t max_depth = 32;
  std::size_t max_name_length = 256;
  std::size_t max_samples = 100000;
};

// Appends one gauge family (one sample) per metric to `out`.
Status ParseJsonApp(std::string_view body, std::string_view prefix, std::int64_t timestamp_ms,
                    std::vector<MetricFamily>& out, ParseStats& stats,
                    const JsonAppLimits& limits = {});

}  // namespace metricsd
