#include "agent/status_page.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/duration.h"

namespace metricsd {
namespace {

using nlohmann::json;

// Room kept free for what follows a list that was cut: the later sections' headings, the
// "… N more" notes and the closing tags. A cap below kMinByteCap is raised to it, so that
// the headings always fit.
constexpr std::size_t kTailReserve = 4 * 1024;
constexpr std::size_t kMinByteCap = 8 * 1024;

constexpr int kSparkWidth = 240;
constexpr int kSparkHeight = 36;
constexpr int kSparkPad = 3;

std::size_t Budget(std::size_t byte_cap) { return std::max(byte_cap, kMinByteCap) - kTailReserve; }

// Locale-independent, unlike printf.
std::string Fixed(double value, int precision) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, precision);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

std::string Age(std::int64_t now_ms, std::int64_t then_ms) {
  if (then_ms <= 0) {
    return "never";
  }
  auto age = std::chrono::milliseconds(std::max<std::int64_t>(0, now_ms - then_ms));
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(age)) + " ago";
}

std::string Seconds(double seconds) {
  return seconds < 1 ? Fixed(seconds * 1000, 2) + " ms" : Fixed(seconds, 2) + " s";
}

std::string Cell(std::string_view text, std::string_view css_class = {}) {
  std::string out = css_class.empty() ? "<td>" : "<td class=\"" + std::string(css_class) + "\">";
  out += HtmlEscape(text);
  out += "</td>";
  return out;
}

// Appends render(i) for each i < n while `out` stays within `budget`; the first item that
// does not fit and all after it are replaced by more(count).
template <typename Render, typename More>
void AppendWithin(std::string& out, std::size_t budget, std::size_t n, Render render, More more) {
  for (std::size_t i = 0; i < n; ++i) {
    std::string item = render(i);
    if (out.size() + item.size() > budget) {
      out += more(n - i);
      return;
    }
    out += item;
  }
}

std::string MoreRow(std::size_t count, int columns) {
  return "<tr><td class=\"more\" colspan=\"" + std::to_string(columns) + "\">\u2026 " +
         std::to_string(count) + " more</td></tr>";
}

std::string ShipperState(const queue::ShipperHealth& h) {
  if (h.held) {
    return "held";
  }
  if (h.degraded) {
    return "degraded";
  }
  if (h.next_retry_in) {
    return "backing off";
  }
  return "ok";
}

std::string ShipperSection(const ShipperStatus& s, std::int64_t now_ms) {
  const queue::ShipperHealth& h = s.health;
  const std::string state = ShipperState(h);
  std::string out = "<section class=\"shipper\"><h3>" + HtmlEscape(s.name) +
                    " <span class=\"state " + (state == "ok" ? "ok" : "bad") + "\">" + state +
                    "</span></h3>";
  if (h.held) {
    out +=
        "<p class=\"held\">Queue held: the receiver refuses our requests (401, 403 or 404). "
        "Nothing is dropped; sending resumes when the configuration or a credential file "
        "changes.</p>";
  }
  out += "<dl>";
  auto item = [&](std::string_view term, const std::string& value) {
    out += "<dt>";
    out += term;
    out += "</dt><dd>";
    out += HtmlEscape(value);
    out += "</dd>";
  };
  item("queued samples", std::to_string(h.pending_samples));
  item("bytes on disk", std::to_string(h.disk_bytes) + (h.disk_ok ? "" : " (disk unusable)"));
  item("oldest unsent sample", h.oldest_pending_ms ? Age(now_ms, *h.oldest_pending_ms) : "none");
  item("sent samples", std::to_string(h.sent_samples));
  item("retried samples", std::to_string(h.retried_samples));
  std::string dropped;
  for (const auto& [reason, count] : h.dropped_samples) {
    dropped += (dropped.empty() ? "" : ", ") + reason + ": " + std::to_string(count);
  }
  item("dropped samples", dropped.empty() ? "none" : dropped);
  item("last success", h.last_success_ms ? Age(now_ms, *h.last_success_ms) : "never");
  if (h.next_retry_in) {
    item("next retry in", FormatDuration(*h.next_retry_in));
  }
  item("last error", h.last_error.empty() ? "none" : h.last_error);
  if (!h.reason.empty()) {
    item("why degraded", h.reason);
  }
  out += "</dl><figure>" + SparklineSvg(s.depth_history, "queued samples, last hour") +
         "<figcaption>queued samples, last hour</figcaption></figure></section>";
  return out;
}

constexpr std::string_view kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:72em}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "h3{font-size:1em}table{border-collapse:collapse}"
    "td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
    ".ok{color:#176f2c}.bad{color:#b3261e;font-weight:bold}.err{color:#b3261e}"
    ".more{font-style:italic;color:#666}.held{background:#fdecea;padding:.4em}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dd{margin:0}"
    "figure{margin:.5em 0}figcaption{font-size:.85em;color:#666}"
    "svg.spark{background:#f6f8fa;border:1px solid #ddd}"
    "pre{background:#f6f8fa;padding:.6em;overflow:auto}";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string SparklineSvg(std::span<const double> points, std::string_view label) {
  std::string out = "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(kSparkWidth) + "\" height=\"" + std::to_string(kSparkHeight) +
                    "\" viewBox=\"0 0 " + std::to_string(kSparkWidth) + " " +
                    std::to_string(kSparkHeight) + "\" role=\"img\"><title>" + HtmlEscape(label);
  if (points.empty()) {
    return out + ": no data yet</title></svg>";
  }
  double max = *std::max_element(points.begin(), points.end());
  out += ": last " + Fixed(points.back(), 3) + ", max " + Fixed(max, 3) + "</title>";
  if (!(max > 0)) {
    max = 1;  // all zero (or not numbers): a flat line at the bottom
  }
  const double inner_w = kSparkWidth - 2 * kSparkPad;
  const double inner_h = kSparkHeight - 2 * kSparkPad;
  auto y = [&](double v) { return kSparkPad + inner_h * (1 - std::clamp(v / max, 0.0, 1.0)); };
  if (points.size() == 1) {
    return out + "<circle cx=\"" + Fixed(kSparkPad + inner_w, 1) + "\" cy=\"" +
           Fixed(y(points[0]), 1) + "\" r=\"2\" fill=\"#0b63c5\"/></svg>";
  }
  out += "<polyline fill=\"none\" stroke=\"#0b63c5\" stroke-width=\"1.5\" points=\"";
  const double step = inner_w / static_cast<double>(points.size() - 1);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += Fixed(kSparkPad + step * static_cast<double>(i), 1);
    out += ',';
    out += Fixed(y(points[i]), 1);
  }
  return out + "\"/></svg>";
}

std::string RenderStatusHtml(const StatusView& view, std::size_t byte_cap) {
  const std::size_t budget = Budget(byte_cap);
  std::string out;
  out.reserve(std::min<std::size_t>(budget, 64 * 1024));
  out += "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width\"><title>metricsd status</title>";
  out += "<style>";
  out += kStyle;
  out += "</style></head><body><h1>metricsd</h1><p>version <b>" + HtmlEscape(view.version) +
         "</b> · up " +
         FormatDuration(std::chrono::seconds(static_cast<std::int64_t>(view.uptime_seconds))) +
         " · " +
         (view.ready ? "<span class=\"ok\">ready</span>" : "<span class=\"bad\">not ready</span>") +
         " · <a href=\"/metrics\">/metrics</a> · <a href=\"/health\">/health</a></p>";

  out += "<h2>Collectors</h2><figure>" +
         SparklineSvg(view.collection_seconds_history, "collection duration (s), last hour") +
         "<figcaption>system collection duration, last hour</figcaption></figure>";
  out +=
      "<table><tr><th>collector</th><th>state</th><th>last duration</th>"
      "<th>last error</th></tr>";
  AppendWithin(
      out, budget, view.collectors.size(),
      [&](std::size_t i) {
        const CollectorHealth& c = view.collectors[i];
        return "<tr>" + Cell(c.name) + Cell(c.state, c.state == "failing" ? "bad" : "") +
               Cell(Seconds(c.last_duration_seconds)) + Cell(c.last_error, "err") + "</tr>";
      },
      [](std::size_t n) { return MoreRow(n, 4); });
  out += "</table>";

  out += "<h2>Scrape targets</h2>";
  if (view.targets.empty()) {
    out += "<p>none configured</p>";
  } else {
    out +=
        "<table><tr><th>target</th><th>up</th><th>last scrape</th><th>duration</th>"
        "<th>samples</th><th>last error</th></tr>";
    AppendWithin(
        out, budget, view.targets.size(),
        [&](std::size_t i) {
          const ScrapeTargetStatus& t = view.targets[i];
          return "<tr><td>" + HtmlEscape(t.name) + "<br><small>" + HtmlEscape(t.url) +
                 "</small></td>" + Cell(t.up ? "up" : "down", t.up ? "ok" : "bad") +
                 Cell(Age(view.now_ms, t.last_scrape_ms)) + Cell(Seconds(t.duration_seconds)) +
                 Cell(Fixed(t.samples, 0)) + Cell(t.last_error, "err") + "</tr>";
        },
        [](std::size_t n) { return MoreRow(n, 6); });
    out += "</table>";
  }

  out += "<h2>Shippers</h2>";
  if (view.shippers.empty()) {
    out += "<p>none configured</p>";
  }
  AppendWithin(
      out, budget, view.shippers.size(),
      [&](std::size_t i) { return ShipperSection(view.shippers[i], view.now_ms); },
      [](std::size_t n) { return "<p class=\"more\">\u2026 " + std::to_string(n) + " more</p>"; });

  // Last: the longest and the least urgent. Cut by lines, so an entity is never split.
  out += "<h2>Effective configuration</h2><pre>";
  std::vector<std::string_view> lines;
  for (std::string_view rest = view.effective_config; !rest.empty();) {
    std::size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  }
  AppendWithin(
      out, budget, lines.size(), [&](std::size_t i) { return HtmlEscape(lines[i]) + "\n"; },
      [](std::size_t n) {
        return "<span class=\"more\">\u2026 " + std::to_string(n) + " more lines</span>";
      });
  out += "</pre></body></html>\n";
  return out;
}

std::string RenderStatusJson(const StatusView& view, std::size_t byte_cap) {
  const std::size_t budget = Budget(byte_cap);
  // Strings from outside need not be UTF-8; dump() would throw on them.
  auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  json out = {{"version", view.version},
              {"generated_at_ms", view.now_ms},
              {"uptime_seconds", view.uptime_seconds},
              {"ready", view.ready},
              {"collection_seconds_history", view.collection_seconds_history}};
  json config = json::parse(view.effective_config, nullptr, false);
  out["config"] = config.is_discarded() ? json(view.effective_config) : config;
  std::size_t used = dump(out).size();
  if (used > budget / 2) {
    out["config"] = "too large for the status page (" +
                    std::to_string(view.effective_config.size()) +
                    " bytes): see metricsd -check-config";
    used = dump(out).size();
  }
  // Adds each item while the document stays within the budget; counts the rest.
  auto add_list = [&](const char* key, std::size_t n, auto item) {
    json list = json::array();
    for (std::size_t i = 0; i < n; ++i) {
      json j = item(i);
      std::size_t size = dump(j).size() + 1;
      if (used + size > budget) {
        out[std::string(key) + "_more"] = n - i;
        break;
      }
      used += size;
      list.push_back(std::move(j));
    }
    out[key] = std::move(list);
  };
  add_list("collectors", view.collectors.size(), [&](std::size_t i) {
    const CollectorHealth& c = view.collectors[i];
    return json{{"name", c.name},
                {"state", c.state},
                {"last_duration_seconds", c.last_duration_seconds},
                {"last_success_ms", c.last_success_ms},
                {"failures_total", c.failures_total},
                {"last_error", c.last_error}};
  });
  add_list("targets", view.targets.size(), [&](std::size_t i) {
    const ScrapeTargetStatus& t = view.targets[i];
    return json{{"name", t.name},
                {"url", t.url},
                {"up", t.up},
                {"last_scrape_ms", t.last_scrape_ms},
                {"duration_seconds", t.duration_seconds},
                {"samples", t.samples},
                {"last_error", t.last_error}};
  });
  add_list("shippers", view.shippers.size(), [&](std::size_t i) {
    const ShipperStatus& s = view.shippers[i];
    const queue::ShipperHealth& h = s.health;
    json j = {{"name", s.name},
              {"state", ShipperState(h)},
              {"held", h.held},
              {"degraded", h.degraded},
              {"reason", h.reason},
              {"pending_samples", h.pending_samples},
              {"disk_bytes", h.disk_bytes},
              {"disk_ok", h.disk_ok},
              {"sent_samples", h.sent_samples},
              {"retried_samples", h.retried_samples},
              {"dropped_samples", h.dropped_samples},
              {"last_error", h.last_error},
              {"depth_history", s.depth_history}};
    j["oldest_pending_ms"] = h.oldest_pending_ms ? json(*h.oldest_pending_ms) : json(nullptr);
    j["last_success_ms"] = h.last_success_ms ? json(*h.last_success_ms) : json(nullptr);
    if (h.next_retry_in) {
      j["next_retry_in_seconds"] = static_cast<double>(h.next_retry_in->count()) / 1000.0;
    }
    return j;
  });
  return dump(out) + "\n";
}

}  // namespace metricsd
