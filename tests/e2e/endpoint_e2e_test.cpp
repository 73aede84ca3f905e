// End-to-end: the metricsd binary serves /metrics from its prepared parts (system and
// scrape) with the self-metrics rendered per request. The identity and the gzip forms carry
// the same series, every family appears once, and a real Prometheus scrapes it (over gzip,
// as it asks for) with every series, the scraped ones last in the body included.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/gunzip.h"
#include "support/local_http_server.h"
#include "support/process.h"
#include "support/prometheus.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;
using testing::WaitFor;

const std::string kBinary = METRICSD_BINARY;

// A target with many series and process_* families of its own, like a Go program.
class BigTarget {
 public:
  explicit BigTarget(const std::string& extra = "") {
    for (int i = 0; i < 2000; ++i) {
      body_ += "# TYPE family_" + std::to_string(i) + " gauge\nfamily_" + std::to_string(i) +
               "{shard=\"" + std::to_string(i % 7) + "\"} " + std::to_string(i) + "\n";
    }
    body_ += "# TYPE process_open_fds gauge\nprocess_open_fds 12\n" + extra;
    server_.http().Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(body_, "text/plain; version=0.0.4");
    });
    server_.Start();
  }
  std::string url() const { return server_.url("/metrics"); }

 private:
  std::string body_;
  testing::LocalHttpServer server_;  // last: stopped before the body its handler serves
};

using testing::Gunzip;

// Lines that do not change between two requests of the same cycles: all but the
// self-metrics' samples.
// The lines of a response without the values of its samples (a collection cycle may run
// between two pulls) and without metricsd's and the process' own series.
std::multiset<std::string> StableLines(const std::string& text) {
  std::multiset<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("metricsd_") || line.starts_with("process_")) {
      continue;
    }
    lines.insert(line.starts_with("#") ? line : line.substr(0, line.rfind(' ')));
  }
  return lines;
}

std::map<std::string, int> TypeLines(const std::string& text) {
  std::map<std::string, int> names;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# TYPE ")) {
      ++names[line.substr(7, line.find(' ', 7) - 7)];
    }
  }
  return names;
}

std::string Config(int port, const std::string& target_url) {
  // A long interval: both requests below see the same prepared parts. No prefix: the
  // target's process_open_fds shares its name with ours.
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":60},"endpoints":[{"name":"big","url":")" +
         target_url + R"(","metric_prefix":""}]})";
}

TEST(EndpointE2e, IdentityAndGzipCarryTheSameFamiliesEachOnce) {
  BigTarget target;
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", Config(port, target.url()));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  client.set_decompress(false);
  std::string plain;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = client.Get("/metrics");
        plain = res ? res->body : "";
        return plain.find("family_1999{") != std::string::npos &&
               plain.find("system_load_1 ") != std::string::npos;
      },
      20s))
      << daemon.Stderr();
  auto gz = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
  std::string decoded = Gunzip(gz->body);
  EXPECT_EQ(StableLines(decoded), StableLines(plain));
  for (const std::string& text : {plain, decoded}) {
    for (const auto& [name, count] : TypeLines(text)) {
      EXPECT_EQ(count, 1) << name;
    }
  }
  // The scraped program's process_open_fds is merged with ours under one header.
  EXPECT_THAT(decoded, HasSubstr("process_open_fds{endpoint=\"big\"}"));
  EXPECT_EQ(TypeLines(decoded)["process_open_fds"], 1);
}

TEST(EndpointE2e, AFamilyOfTheSystemPartAlsoScrapedIsRenderedWholeUnderOneHeader) {
  // The target exposes system_load_1 too (no prefix): the prepared parts cannot be joined, so
  // the response is rendered whole, the kept body straight to text.
  BigTarget target("# TYPE system_load_1 gauge\nsystem_load_1 42\n");
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", Config(port, target.url()));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  std::string plain;
  ASSERT_TRUE(WaitFor(
      [&] {
        plain = testing::HttpGet("127.0.0.1", port, "/metrics").body;
        return plain.find("family_1999{") != std::string::npos;
      },
      20s))
      << daemon.Stderr();
  for (const auto& [name, count] : TypeLines(plain)) {
    EXPECT_EQ(count, 1) << name;
  }
  EXPECT_THAT(plain, HasSubstr("system_load_1{endpoint=\"big\"} 42\n"));
  EXPECT_THAT(plain, ::testing::ContainsRegex("\nsystem_load_1 [0-9]"));
  EXPECT_THAT(plain, HasSubstr("process_open_fds{endpoint=\"big\"} 12\n"));
}

TEST(EndpointE2e, PrometheusScrapesEverySeries) {
  if (!testing::Prometheus::Available()) {
    GTEST_SKIP() << "prometheus not installed";
  }
  BigTarget target;
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("config.json", Config(port, target.url()));
  ChildProcess daemon(kBinary, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor(
      [&] {
        return testing::HttpGet("127.0.0.1", port, "/metrics").body.find("family_1999{") !=
               std::string::npos;
      },
      20s))
      << daemon.Stderr();
  testing::Prometheus prometheus(dir, "prom", testing::FreePort());
  prometheus.SetExtraConfig(
      "scrape_configs:\n  - job_name: metricsd\n    scrape_interval: 1s\n"
      "    static_configs:\n      - targets: ['127.0.0.1:" +
      std::to_string(port) + "']\n");
  ASSERT_TRUE(prometheus.Start()) << testing::ReadFile(prometheus.log_path());
  // The scraped series sit in the last part of the body: all of it was decoded.
  auto value = [&](const std::string& query) {
    nlohmann::json data = prometheus.Query(query);
    if (data.is_null() || data["result"].empty()) {
      return std::string();
    }
    return data["result"][0]["value"][1].get<std::string>();
  };
  ASSERT_TRUE(WaitFor([&] { return value("up{job=\"metricsd\"}") == "1"; }, 30s))
      << testing::ReadFile(prometheus.log_path());
  EXPECT_EQ(value("count({job=\"metricsd\",__name__=~\"family_.*\"})"), "2000");
  EXPECT_EQ(value("count(process_open_fds{job=\"metricsd\"})"), "2");
}

}  // namespace
}  // namespace metricsd
