// Deterministic, realistic exposition bodies for benchmarks (and for a scrape target serving
// the same data to peers): HELP/TYPE for every family, 2–5 labels per series, a mix of
// counters, gauges and histograms whose label values look like real services.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace metricsd::bench {

// Returns a Prometheus text 0.0.4 body (open_metrics=false) or an OpenMetrics 1.0 body with
// the same series (counter families drop "_total" from their name, "# EOF" at the end).
// Stops at the first family boundary at or after `series` series.
inline std::string GenerateExposition(std::size_t series, bool open_metrics) {
  static constexpr const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  static constexpr const char* kCodes[] = {"200", "201", "204", "301", "400", "404", "500", "503"};
  static constexpr const char* kHandlers[] = {
      "/api/v1/users/{id}", "/api/v1/orders", "/api/v1/orders/{id}/items", "/healthz",
      "/api/v2/search",     "/metrics",       "/api/v1/payments",          "/static/*",
      "/api/v1/refunds",    "/readyz"};
  static constexpr const char* kBuckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                             "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
  std::uint64_t rng = 0x9E3779B97F4A7C15ULL;
  auto next = [&rng]() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  std::string out;
  out.reserve(series * 110);
  std::size_t emitted = 0;
  for (std::size_t family = 0; emitted < series; ++family) {
    int kind = static_cast<int>(family % 20);  // 12 counters, 5 gauges, 3 histograms per 20
    std::string base = "service_" + std::to_string(family / 20) + "_";
    const char* type = kind < 12 ? "counter" : kind < 17 ? "gauge" : "histogram";
    std::string name;
    if (kind < 12) {
      name = base + "http_requests_" + std::to_string(kind);
    } else if (kind < 17) {
      name = base + "queue_depth_" + std::to_string(kind);
    } else {
      name = base + "request_duration_seconds_" + std::to_string(kind);
    }
    std::string sample_name = name;
    if (kind < 12) {
      sample_name += "_total";
      if (!open_metrics) {
        name += "_total";
      }
    }
    out += "# HELP " + name + " Generated " + type + " family number " + std::to_string(family) +
           ".\n# TYPE " + name + " " + type + "\n";
    std::size_t label_count = 2 + family % 4;  // 2..5 labels
    std::size_t members = kind < 17 ? 40 : 4;  // histograms: 4 series of 12 samples each
    for (std::size_t m = 0; m < members; ++m) {
      std::string labels = "{";
      labels += "method=\"" + std::string(kMethods[m % 4]) + "\"";
      // 4 methods x 10 handlers: each of a family's 40 series has its own label set.
      labels += ",handler=\"" + std::string(kHandlers[(m / 4) % 10]) + "\"";
      if (label_count > 2) {
        labels += ",code=\"" + std::string(kCodes[(m + family) % 8]) + "\"";
      }
      if (label_count > 3) {
        labels += ",instance=\"10.0." + std::to_string(m % 7) + "." +
                  std::to_string(10 + family % 200) + ":9100\"";
      }
      if (label_count > 4) {
        labels += ",pod=\"payments-7d9f8c6b5-" + std::to_string(100000 + next() % 900000) + "\"";
      }
      if (kind < 17) {
        std::string value = kind < 12 ? std::to_string(next() % 10000000)
                                      : std::to_string(static_cast<double>(next() % 100000) / 7);
        out += sample_name + labels + "} " + value + "\n";
        ++emitted;
        continue;
      }
      std::uint64_t count = 0;
      for (const char* le : kBuckets) {
        count += next() % 1000;
        out += sample_name + "_bucket" + labels + ",le=\"" + le + "\"} " + std::to_string(count) +
               "\n";
      }
      out += sample_name + "_sum" + labels + "} " +
             std::to_string(static_cast<double>(count) * 0.137) + "\n";
      out += sample_name + "_count" + labels + "} " + std::to_string(count) + "\n";
      emitted += 12;
    }
  }
  if (open_metrics) {
    out += "# EOF\n";
  }
  return out;
}

}  // namespace metricsd::bench
