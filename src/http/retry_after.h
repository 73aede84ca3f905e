// Parsing of the HTTP Retry-After header (RFC 9110 §10.2.3): either a number of seconds or
// an HTTP-date (IMF-fixdate, and the obsolete RFC 850 and asctime forms). Pure and
// thread-safe; locale-independent.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace metricsd::http {

// The delay the header asks for, relative to `now`; a date in the past gives zero.
// nullopt when the value is neither form. Delays are capped at one week, which is far beyond
// any backoff and keeps arithmetic on the result safe.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

}  // namespace metricsd::http
