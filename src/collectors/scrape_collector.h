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
// Prometheus-text and OpenMetrics bodies are not turned into MetricFamily values on the way
// (100k series a second would cost an allocation per label): each one is parsed once and its
// samples, with prefix, endpoint and extra labels applied, are streamed to the
// ScrapeSampleSink given at construction (the shippers' queue), and the body itself is kept
// until the target's next scrape; MaterializeStored() turns the kept bodies into families
// when someone asks (/metrics, -once). A failed scrape drops the target's kept body.
//
// Staleness, as Prometheus' scrape loop does it, while samples are shipped: the series of a
// target's last successful scrape that the next scrape does not bring, and all of them when
// a scrape fails, get the staleness marker at that scrape's time (samples with a timestamp
// of their own excepted). Only the series' keys are kept; the labels of vanished series are
// found again in the target's previous body. On a reload HandOverSeries passes each
// target's series to the target of the same name, prefix and labels, and marks the others'.
//
// Targets with their own `interval` are scraped when due (checked on each Collect); a tick
// returns the JSON samples of the targets scraped in it and the self-metrics of every target:
//   metricsd_scrape_up, metricsd_scrape_duration_seconds, metricsd_scrape_samples,
//   metricsd_scrape_body_bytes (gauges) and metricsd_scrape_parse_errors_total (counter),
// each labelled {endpoint="<name>"}. Failing targets are logged once per change of state;
// Collect() returns kOk even when targets fail.
//
// Thread-safety: Collect() from one thread at a time (the Collector contract);
// MaterializeStored() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/scrape_source.h"
#include "config/options.h"
#include "core/result.h"

namespace metricsd {

namespace http {
struct HttpResponse;
}  // namespace http
struct ParseStats;

class ScrapeCollector final : public ScrapeSource {
 public:
  // Targets whose HTTP client cannot be built (e.g. an unreadable CA file) are logged as
  // errors and reported with up=0 on every tick. `sink` may be null (nothing is shipped);
  // it must outlive the collector.
  ScrapeCollector(const std::vector<config::EndpointOptions>& endpoints,
                  std::chrono::seconds collector_interval, ScrapeSampleSink* sink = nullptr);
  ~ScrapeCollector() override;
  ScrapeCollector(const ScrapeCollector&) = delete;
  ScrapeCollector& operator=(const ScrapeCollector&) = delete;

  std::string_view name() const override { return "scrape"; }
  CollectResult Collect(const CollectContext& ctx) override;

  // The samples of the bodies kept from each target's last successful text or OpenMetrics
  // scrape, as families (prefix and target labels applied), in target order.
  std::vector<MetricFamily> MaterializeStored() const override;
  void RenderStored(TextExpositionBuilder& out) const override;
  std::vector<ScrapeTargetStatus> TargetStatuses() const override;
  void HandOverSeries(ScrapeSource* next, ScrapeSampleSink& markers, std::int64_t wall_ms) override;

  // The timeout a target gets: its own, else min(10s, its interval).
  static std::chrono::milliseconds EffectiveTimeout(const config::EndpointOptions& endpoint,
                                                    std::chrono::seconds collector_interval);

 private:
  struct Target;
  struct Multi;
  struct StoredBody;

  // Parses one 2xx body: JSON families into `out`; text and OpenMetrics samples to the sink,
  // the body kept as the target's stored body. Returns an error when the whole body was
  // rejected.
  Status ParseResponse(Target& t, http::HttpResponse& response, std::int64_t wall_ms,
                       std::vector<MetricFamily>& out, ParseStats& stats);

  // Parses the answer of a finished transfer (or records why there is none) and ends the
  // target's scrape; `started` is when the tick's transfers started.
  void FinishScrape(Target& t, const CollectContext& ctx,
                    std::chrono::steady_clock::time_point started, std::vector<MetricFamily>& out);

  // Each target's kept body (null: none), in target order.
  std::vector<std::shared_ptr<const StoredBody>> StoredBodies() const;

  struct Previous;
  // What the target had before this scrape (its kept body and JSON families).
  Previous TakePrevious(Target& t);
  // Records the end of a target's scrape (error empty: it succeeded): its state, the log
  // line on a change, and, while shipping, staleness markers for the series it no longer has
  // (their labels found again in `previous`).
  void EndScrape(Target& t, std::int64_t wall_ms, std::string error, Previous previous);
  // Staleness markers for the series of `t` whose keys are in `gone` (sorted).
  void MarkGone(Target& t, const Previous& previous, const std::vector<std::uint64_t>& gone,
                std::int64_t wall_ms, ScrapeSampleSink& markers);

  std::vector<std::unique_ptr<Target>> targets_;
  std::unique_ptr<Multi> multi_;
  ScrapeSampleSink* sink_;
  mutable std::mutex stored_mutex_;  // guards every Target::stored
  mutable std::mutex status_mutex_;
  // One per target, updated in place at the end of each Collect (no allocation once the
  // strings have grown).
  std::vector<ScrapeTargetStatus> statuses_;  // guarded by status_mutex_
  std::vector<std::uint64_t> gone_;           // scratch of the collecting thread
};

}  // namespace metricsd
