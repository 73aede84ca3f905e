// End-to-end: the metricsd binary scrapes an in-test HTTP target configured under
// `endpoints` and serves the scraped series, labelled with the endpoint, on /metrics; -once
// includes one scrape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/local_http_server.h"
#include "support/process.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::TempDir;
using testing::WaitFor;

const std::string kBinary = METRICSD_BINARY;

class Target {
 public:
  Target() {
    server_.http().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "# TYPE orders_total counter\norders_total{shop=\"x\"} 42\n"
          "# TYPE queue_depth gauge\nqueue_depth 7\n",
          "text/plain; version=0.0.4");
    });
    server_.Start();
  }
  std::string url() const { return server_.url("/metrics"); }

 private:
  testing::LocalHttpServer server_;
};

std::string Config(int port, const std::string& target_url) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1},"endpoints":[{"name":"shop","url":")" +
         target_url + R"(","labels":{"team":"t1"}},)" +
         R"({"name":"dead","url":"http://127.0.0.1:1/metrics","timeout":"500ms"}]})";
}

TEST(ScrapeE2e, DaemonServesScrapedSeriesWithEndpointLabel) {
  Target target;
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", Config(port, target.url()));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet("127.0.0.1", port, "/metrics").body;
        return metrics.find("app_orders_total{") != std::string::npos;
      },
      20s))
      << daemon.Stderr() << "\n"
      << metrics;
  EXPECT_THAT(metrics, HasSubstr("# TYPE app_orders_total counter"));
  EXPECT_THAT(metrics, HasSubstr(R"(app_orders_total{endpoint="shop",shop="x",team="t1"} 42)"));
  EXPECT_THAT(metrics, HasSubstr(R"(app_queue_depth{endpoint="shop",team="t1"} 7)"));
  EXPECT_THAT(metrics, HasSubstr(R"(metricsd_scrape_up{endpoint="shop"} 1)"));
  EXPECT_THAT(metrics, HasSubstr(R"(metricsd_scrape_up{endpoint="dead"} 0)"));
  EXPECT_THAT(metrics, HasSubstr(R"(metricsd_collector_up{collector="scrape"} 1)"));
  // System collectors keep running next to the scrapes.
  EXPECT_THAT(metrics, HasSubstr("metricsd_collector_up{collector=\"memory\"}"));

  auto health = nlohmann::json::parse(HttpGet("127.0.0.1", port, "/health").body);
  EXPECT_EQ(health["collectors"]["scrape"]["status"], "ok");
}

TEST(ScrapeE2e, OnceIncludesOneScrape) {
  Target target;
  TempDir dir;
  std::string config = dir.Write("config.json", Config(testing::FreePort(), target.url()));
  ChildProcess once(kBinary, {"-once", "-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_EQ(once.Wait(30s), 0) << once.Stderr();
  EXPECT_THAT(once.Stdout(),
              HasSubstr(R"(app_orders_total{endpoint="shop",shop="x",team="t1"} 42)"));
}

}  // namespace
}  // namespace metricsd
