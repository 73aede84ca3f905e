// ScrapeCollector: scrapes the configured HTTP endpoints (Prometheus text, OpenMetrics or
// JSON) and returns their samples plus per-target self-metrics.
//
// Every due target is fetched concurrently on the calling thread with one curl multi handle;
// each target keeps its own easy handle (an http::HttpClient) between ticks, so connections
// and TLS sessions are reused. Each transfer has its own timeout (endpoint.timeout, default
// min(10s, interval)), a cap on the decoded body (max_body_bytes; gzip bombs are cut at the
// cap), at most 5 redirects, and only 2xx responses count. A slow target never delays the
// others beyond its own timeout.
//
// Targets with their own `interval` are scraped when due (checked on each Collect); a tick
// returns the samples of the targets scraped in it and the self-metrics of every target:
//   metricsd_scrape_up, metricsd_scrape_duration_seconds, metricsd_scrape_samples,
//   metricsd_scrape_body_bytes (gauges) and metricsd_scrape_parse_errors_total (counter),
// each labelled {endpoint="<name>"}. Failing targets are logged once per change of state;
// Collect() returns kOk even when targets fail.
//
// Thread-safety: Collect() from one thread at a time (the Collector contract).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "config/options.h"

namespace metricsd {

class ScrapeCollector final : public Collector {
 public:
  // Targets whose HTTP client cannot be built (e.g. an unreadable CA file) are logged as
  // errors and reported with up=0 on every tick.
  ScrapeCollector(const std::vector<config::EndpointOptions>& endpoints,
                  std::chrono::seconds collector_interval);
  ~ScrapeCollector() override;
  ScrapeCollector(const ScrapeCollector&) = delete;
  ScrapeCollector& operator=(const ScrapeCollector&) = delete;

  std::string_view name() const override { return "scrape"; }
  CollectResult Collect(const CollectContext& ctx) override;

  // The timeout a target gets: its own, else min(10s, its interval).
  static std::chrono::milliseconds EffectiveTimeout(const config::EndpointOptions& endpoint,
                                                    std::chrono::seconds collector_interval);

 private:
  struct Target;
  struct Multi;
  std::vector<std::unique_ptr<Target>> targets_;
  std::unique_ptr<Multi> multi_;
};

}  // namespace metricsd
