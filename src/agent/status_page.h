// The status page at "/": what a person opening the agent's address in a browser sees
// (HTML), or the same data as JSON for scripts. The agent gathers a StatusView on request
// from state it keeps anyway (collector and queue health, scrape target status, the history
// rings); the functions here are pure, so tests feed them views directly.
//
// Every string that comes from outside (target and receiver errors, names, label values,
// configuration) is escaped. Both forms stay within `byte_cap` (at least 8 KiB, so that every
// section's heading fits): lists that do not fit end in a visible "… N more" (HTML) or a
// "<section>_more": N count (JSON) instead of growing without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/collector_runner.h"
#include "collectors/scrape_source.h"
#include "queue/shipper_queue.h"

namespace metricsd {

struct ShipperStatus {
  std::string name;
  queue::ShipperHealth health;
  std::vector<double> depth_history;  // pending samples, last hour, oldest first
};

struct StatusView {
  std::string version;
  std::int64_t now_ms = 0;  // wall clock the view was gathered at
  double uptime_seconds = 0;
  bool ready = false;
  std::string effective_config;  // JSON text with secrets already redacted
  std::vector<CollectorHealth> collectors;
  std::vector<double> collection_seconds_history;  // system cycle, last hour, oldest first
  std::vector<ScrapeTargetStatus> targets;
  std::vector<ShipperStatus> shippers;
};

inline constexpr std::size_t kStatusPageByteCap = 256 * 1024;

// `text` with & < > " ' replaced by entities: safe in element content and quoted attributes.
std::string HtmlEscape(std::string_view text);

// A small inline SVG line of `points` (oldest first), scaled from 0 to their maximum; a
// single point is a dot, no points an empty frame. `label` becomes the SVG's title.
std::string SparklineSvg(std::span<const double> points, std::string_view label);

std::string RenderStatusHtml(const StatusView& view, std::size_t byte_cap = kStatusPageByteCap);
std::string RenderStatusJson(const StatusView& view, std::size_t byte_cap = kStatusPageByteCap);

}  // namespace metricsd
