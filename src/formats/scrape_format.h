// Which parser a scraped body goes to, and what a scraper asks for.
//
// DetectFormat trusts the Content-Type media type (parameters ignored, case-insensitive):
//   application/openmetrics-text → OpenMetrics, application/json and */*+json → JSON,
//   text/plain → Prometheus text, except that a text/plain body starting with '{' or '['
//   goes to JSON (no valid text exposition starts that way; plain-text JSON servers are common).
// Any other or missing type falls back to the body: first non-blank byte '{' or '[' → JSON;
// last non-blank line "# EOF" → OpenMetrics; anything else → Prometheus text.
// Pure, noexcept, no allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace metricsd {

enum class ScrapeFormat : std::uint8_t { kPrometheusText, kOpenMetrics, kJson };

std::string_view ScrapeFormatName(ScrapeFormat format) noexcept;

ScrapeFormat DetectFormat(std::string_view content_type, std::string_view body) noexcept;

// The Accept header a scraper sends: OpenMetrics 1.0.0 first (0.0.1 is the same grammar, still
// served by older client libraries), then text 0.0.4, then JSON, then anything.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,"
    "application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,"
    "application/json;q=0.4,"
    "*/*;q=0.1";

}  // namespace metricsd
