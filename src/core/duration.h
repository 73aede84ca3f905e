// Go-style duration text ("30s", "500ms", "1m30s", "1.5h") to std::chrono and back.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace metricsd {

// Units: ns, us (or µs), ms, s, m, h. Fractions allowed ("1.5s"); a bare "0" is zero.
// Returns nullopt on syntax errors, negative values and overflow.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

// Shortest Go-like rendering: "30s", "1m30s", "500ms", "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace metricsd
