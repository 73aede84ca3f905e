// What the agent needs from a scrape collector beyond the Collector contract, as an
// interface: where streamed samples go (ScrapeSampleSink) and the families of the bodies it
// keeps (MaterializeStored, RenderStored), so the agent does not depend on how scraping is
// implemented.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "core/metric.h"
#include "formats/prometheus_text_writer.h"

namespace metricsd {

// Receives the samples of text and OpenMetrics bodies, on the collecting thread, with their
// final names and labels (views valid for the call only).
class ScrapeSampleSink {
 public:
  virtual ~ScrapeSampleSink() = default;
  virtual void Add(std::string_view family, std::string_view help, MetricType type,
                   std::string_view name, std::span<const LabelView> labels, double value,
                   std::int64_t timestamp_ms) = 0;
  // A scrape found invalid or over a limit after some of its samples were added takes them
  // back: Rollback() drops everything added since the last Mark().
  virtual void Mark() = 0;
  virtual void Rollback() = 0;

  // A series' shipped form, worked out once: what Add does to its name and labels
  // (decoration, write relabeling, encoding), as bytes only the sink reads. The scrape's
  // series cache keeps them while the series keeps coming, and each new value is appended
  // with AddPrepared, which does the same as Add with the labels Prepare was given. Prepare
  // appends the form to `out`, or returns false where the sink has none (Add is then used).
  virtual bool Prepare(std::string_view /*name*/, std::span<const LabelView> /*labels*/,
                       std::string& /*out*/) {
    return false;
  }
  virtual void AddPrepared(std::string_view /*prepared*/, std::string_view /*family*/,
                           std::string_view /*help*/, MetricType /*type*/, double /*value*/,
                           std::int64_t /*timestamp_ms*/) {}
};

// One target as of its last scrape, for the status page.
struct ScrapeTargetStatus {
  std::string name;
  std::string url;  // user-info redacted
  bool up = false;
  std::int64_t last_scrape_ms = 0;  // wall clock; 0: not scraped yet
  double duration_seconds = 0;
  double samples = 0;
  std::string last_error;  // empty while up; text from outside (curl, the target)
};

class ScrapeSource : public Collector {
 public:
  // Every target, in configuration order. Thread-safe.
  virtual std::vector<ScrapeTargetStatus> TargetStatuses() const = 0;
  // The samples of the bodies kept from each target's last successful text or OpenMetrics
  // scrape, as families (prefix and target labels applied), in target order. Thread-safe.
  virtual std::vector<MetricFamily> MaterializeStored() const = 0;
  // The same samples rendered into `out` as Prometheus text, each body as one source,
  // without families. Thread-safe.
  virtual void RenderStored(TextExpositionBuilder& out) const = 0;

  // Reload: each target's series (for staleness markers) go to the same target in `next`
  // (same name, prefix and labels; null: no endpoints any more); the series of the others
  // get a staleness marker in `markers` at `wall_ms`. Neither source may be collecting.
  virtual void HandOverSeries(ScrapeSource* next, ScrapeSampleSink& markers,
                              std::int64_t wall_ms) = 0;
};

}  // namespace metricsd
