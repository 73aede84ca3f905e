#include "agent/status_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kHostile = R"(<script>alert("x")</script><img src=x onerror='y'>&amp;)";

StatusView SampleView() {
  StatusView view{
      .version = "1.2.3",
      .now_ms = 1'700'000'060'000,
      .uptime_seconds = 3725,
      .ready = true,
      .effective_config = R"({"shippers": [{"name": "main", "bearer_token": "<redacted>"}]})",
      .collectors = {CollectorHealth{.name = "cpu", .state = "ok", .last_duration_seconds = 0.0002},
                     CollectorHealth{.name = "gpu", .state = "failing", .last_error = "no NVML"}},
      .collection_seconds_history = {0.001, 0.002, 0.0015},
      .targets = {ScrapeTargetStatus{.name = "app",
                                     .url = "http://127.0.0.1:9/metrics",
                                     .up = false,
                                     .last_scrape_ms = 1'700'000'055'000,
                                     .duration_seconds = 0.01,
                                     .samples = 0,
                                     .last_error = "HTTP status 500"}},
  };
  queue::ShipperHealth held{.degraded = true,
                            .reason = "held: the receiver refuses our requests (HTTP 401)",
                            .last_error = "HTTP 401",
                            .held = true,
                            .pending_samples = 120,
                            .disk_ok = true,
                            .disk_bytes = 4096,
                            .oldest_pending_ms = 1'700'000'000'000,
                            .sent_samples = 7,
                            .retried_samples = 3,
                            .dropped_samples = {{"rejected", 2}}};
  view.shippers.push_back(
      ShipperStatus{.name = "auth", .health = held, .depth_history = {10, 120}});
  view.shippers.push_back(ShipperStatus{.name = "fine", .health = {.disk_ok = true}});
  return view;
}

TEST(HtmlEscape, ReplacesEveryMarkupCharacter) {
  EXPECT_EQ(HtmlEscape(R"(<a href="x">&'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain text"), "plain text");
}

TEST(StatusPageHtml, EscapesEveryStringFromOutside) {
  StatusView view = SampleView();
  const std::string hostile(kHostile);
  view.targets[0].name = hostile;
  view.targets[0].url = hostile;
  view.targets[0].last_error = hostile;
  view.collectors[1].last_error = hostile;
  view.shippers[0].name = hostile;
  view.shippers[0].health.last_error = hostile;
  view.shippers[0].health.reason = hostile;
  view.shippers[0].health.dropped_samples = {{hostile, 1}};
  view.effective_config = R"({"labels": {"team": ")" + hostile + R"("}})";
  view.version = hostile;
  const std::string page = RenderStatusHtml(view);
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  EXPECT_THAT(page, Not(HasSubstr("onerror='")));
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
  EXPECT_THAT(page, HasSubstr("&amp;amp;"));  // an entity in the input is shown, not decoded
}

TEST(StatusPageHtml, ShowsEverySection) {
  const std::string page = RenderStatusHtml(SampleView());
  EXPECT_THAT(page, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("1.2.3"));
  EXPECT_THAT(page, HasSubstr("up 1h2m5s"));
  EXPECT_THAT(page, HasSubstr("no NVML"));
  EXPECT_THAT(page, HasSubstr("HTTP status 500"));
  EXPECT_THAT(page, HasSubstr("5s ago"));  // the target's last scrape
  EXPECT_THAT(page, HasSubstr("1m ago"));  // the oldest unsent sample
  EXPECT_THAT(page, HasSubstr("rejected: 2"));
  EXPECT_THAT(page, HasSubstr("Queue held"));
  EXPECT_THAT(page, HasSubstr("&lt;redacted&gt;"));  // the configuration, as rendered
  EXPECT_THAT(page, HasSubstr("<polyline"));         // sparklines
  EXPECT_THAT(page, Not(HasSubstr("<script")));      // no JavaScript needed
  EXPECT_THAT(page, Not(HasSubstr("http://www.w3.org/1999/xhtml")));
  EXPECT_TRUE(page.ends_with("</html>\n"));
}

TEST(StatusPageHtml, ListsBeyondTheByteCapEndInACount) {
  StatusView view = SampleView();
  view.targets.clear();
  for (int i = 0; i < 5000; ++i) {
    view.targets.push_back(ScrapeTargetStatus{.name = "target-" + std::to_string(i),
                                              .last_error = std::string(200, 'e')});
  }
  constexpr std::size_t kCap = 64 * 1024;
  const std::string page = RenderStatusHtml(view, kCap);
  EXPECT_LE(page.size(), kCap);
  EXPECT_THAT(page, HasSubstr("target-0<"));
  EXPECT_THAT(page, Not(HasSubstr("target-4999<")));
  EXPECT_THAT(page, HasSubstr(" more</td>"));
  EXPECT_THAT(page, HasSubstr("<h2>Shippers</h2>"));  // later sections keep their headings
  EXPECT_TRUE(page.ends_with("</html>\n"));
  // The count is exact: shown rows plus the rest make every target.
  std::size_t shown = 0;
  for (std::size_t at = 0; (at = page.find(">target-", at)) != std::string::npos; ++at) {
    ++shown;
  }
  const std::string more = "\u2026 " + std::to_string(5000 - shown) + " more</td>";
  EXPECT_THAT(page, HasSubstr(more));
}

TEST(StatusPageJson, HasEverySection) {
  nlohmann::json j = nlohmann::json::parse(RenderStatusJson(SampleView()));
  EXPECT_EQ(j["version"], "1.2.3");
  EXPECT_EQ(j["ready"], true);
  EXPECT_DOUBLE_EQ(j["uptime_seconds"].get<double>(), 3725);
  EXPECT_EQ(j["config"]["shippers"][0]["bearer_token"], "<redacted>");
  EXPECT_EQ(j["collection_seconds_history"].size(), 3U);
  ASSERT_EQ(j["collectors"].size(), 2U);
  EXPECT_EQ(j["collectors"][1]["state"], "failing");
  EXPECT_EQ(j["collectors"][1]["last_error"], "no NVML");
  ASSERT_EQ(j["targets"].size(), 1U);
  EXPECT_EQ(j["targets"][0]["up"], false);
  EXPECT_EQ(j["targets"][0]["last_error"], "HTTP status 500");
  EXPECT_EQ(j["targets"][0]["last_scrape_ms"], 1'700'000'055'000);
  ASSERT_EQ(j["shippers"].size(), 2U);
  const nlohmann::json& held = j["shippers"][0];
  EXPECT_EQ(held["name"], "auth");
  EXPECT_EQ(held["held"], true);
  EXPECT_EQ(held["state"], "held");
  EXPECT_EQ(held["pending_samples"], 120);
  EXPECT_EQ(held["disk_bytes"], 4096);
  EXPECT_EQ(held["oldest_pending_ms"], 1'700'000'000'000);
  EXPECT_EQ(held["sent_samples"], 7);
  EXPECT_EQ(held["retried_samples"], 3);
  EXPECT_EQ(held["dropped_samples"]["rejected"], 2);
  EXPECT_EQ(held["last_error"], "HTTP 401");
  EXPECT_EQ(held["depth_history"], nlohmann::json::array({10, 120}));
  EXPECT_EQ(j["shippers"][1]["held"], false);
  EXPECT_TRUE(j["shippers"][1]["oldest_pending_ms"].is_null());
  EXPECT_FALSE(j.contains("targets_more"));
}

TEST(StatusPageJson, InvalidUtf8AndTheByteCapDoNotBreakTheDocument) {
  StatusView view = SampleView();
  view.targets.clear();
  for (int i = 0; i < 5000; ++i) {
    view.targets.push_back(
        ScrapeTargetStatus{.name = "t" + std::to_string(i),
                           .last_error = "bad \xff\xfe bytes " + std::string(200, 'e')});
  }
  constexpr std::size_t kCap = 64 * 1024;
  const std::string text = RenderStatusJson(view, kCap);
  EXPECT_LE(text.size(), kCap);
  nlohmann::json j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.contains("targets_more"));
  EXPECT_EQ(j["targets"].size() + j["targets_more"].get<std::size_t>(), 5000U);
  EXPECT_GT(j["targets"].size(), 0U);
}

TEST(Sparkline, NoPointsIsAnEmptyFrame) {
  const std::string svg = SparklineSvg({}, "depth");
  EXPECT_THAT(svg, HasSubstr("<svg"));
  EXPECT_THAT(svg, HasSubstr("depth: no data yet"));
  EXPECT_THAT(svg, Not(HasSubstr("<polyline")));
  EXPECT_THAT(svg, Not(HasSubstr("<circle")));
  EXPECT_TRUE(svg.ends_with("</svg>"));
}

TEST(Sparkline, OnePointIsADot) {
  const std::vector<double> points = {5};
  const std::string svg = SparklineSvg(points, "depth");
  EXPECT_THAT(svg, HasSubstr("<circle"));
  EXPECT_THAT(svg, Not(HasSubstr("<polyline")));
  EXPECT_THAT(svg, HasSubstr("last 5.000"));
}

TEST(Sparkline, ManyPointsAreOneLineScaledToTheirMaximum) {
  const std::vector<double> points = {0, 10, 5, 0};
  const std::string svg = SparklineSvg(points, "a<b");
  EXPECT_THAT(svg, HasSubstr("<title>a&lt;b: last 0.000, max 10.000</title>"));
  // 240x36 with 3 px of padding: x from 3 to 237, y from 33 (zero) up to 3 (the maximum).
  EXPECT_THAT(svg, HasSubstr("points=\"3.0,33.0 81.0,3.0 159.0,18.0 237.0,33.0\""));
}

TEST(Sparkline, AllZeroIsAFlatLineAtTheBottom) {
  const std::vector<double> points = {0, 0};
  EXPECT_THAT(SparklineSvg(points, "x"), HasSubstr("points=\"3.0,33.0 237.0,33.0\""));
}

}  // namespace
}  // namespace metricsd
