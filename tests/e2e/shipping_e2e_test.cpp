// The daemon's shipping promises, end to end with the real binary: no sample lost through
// a receiver outage and a kill -9 (checked against a real Prometheus), 4xx dropped without
// a retry storm, 5xx retried until the receiver recovers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/local_http_server.h"
#include "support/process.h"
#include "support/prometheus.h"
#include "support/test_pki.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::PeerProcess;
using testing::Prometheus;
using testing::TempDir;
using testing::WaitFor;

nlohmann::json Health(int port) { return testing::HealthJson(port); }

TEST(Shipping, NoSampleLostThroughOutageAndKill9) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus flaky(dir, "flaky", testing::FreePort());
  Prometheus steady(dir, "steady", testing::FreePort());
  ASSERT_TRUE(flaky.Start());
  ASSERT_TRUE(steady.Start());
  int port = testing::FreePort();
  std::string config = dir.Write(
      "c.json",
      R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
          R"(},"collector":{"interval_seconds":1,"enable_disk":false,"enable_network":false,
                    "enable_pressure":false,"enable_cpu":false},
                    "data_dir":")" +
          dir.path() + R"(/data",
                    "shippers":[{"name":"flaky","type":"prometheus_remote_write","endpoint":")" +
          flaky.url() + R"(","timeout":"2s","queue":{"min_backoff":"200ms","max_backoff":"1s"}},
                    {"name":"steady","type":"prometheus_remote_write","endpoint":")" +
          steady.url() + R"("}]})");
  auto daemon =
      std::make_unique<ChildProcess>(METRICSD_BINARY, std::vector<std::string>{"-config", config},
                                     testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Health(port)["ready"] == true; }, 10s)) << daemon->Stderr();
  std::this_thread::sleep_for(3s);

  flaky.Stop();  // the outage: at least 30 s
  auto outage_started = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(15s);
  EXPECT_GT(Health(port)["shippers"]["flaky"]["pending_samples"].get<long long>(), 0);
  daemon->Signal(SIGKILL);  // crash in the middle of the outage
  daemon->Wait(5s);
  daemon =
      std::make_unique<ChildProcess>(METRICSD_BINARY, std::vector<std::string>{"-config", config},
                                     testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return Health(port)["ready"] == true; }, 10s)) << daemon->Stderr();
  std::this_thread::sleep_until(outage_started + 32s);
  ASSERT_TRUE(flaky.Start());

  // Once the backlog drained, both receivers hold exactly the same samples.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port);
        return h["shippers"]["flaky"]["pending_samples"] == 0 &&
               h["shippers"]["steady"]["pending_samples"] == 0;
      },
      60s))
      << daemon->Stderr();
  std::set<long long> expected = steady.Timestamps("system_memory_total_bytes", "5m");
  std::set<long long> got = flaky.Timestamps("system_memory_total_bytes", "5m");
  EXPECT_GE(expected.size(), 35u);  // ~40 s of 1 s cycles, minus the restart
  EXPECT_EQ(got, expected) << "samples lost or invented through the outage";
}

// Certificate rotation: the client certificate files are replaced and SIGHUP makes the
// next handshake use the new certificate (the receiver requires and verifies it).
TEST(Shipping, ClientCertificateRotatesOnSighup) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  testing::TestPki pki(dir.path(), "ca");
  testing::CertFiles server = pki.Issue(
      "server",
      {.common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}});
  // The first client certificate has already expired: the receiver refuses it.
  testing::CertFiles client = pki.Issue(
      "client",
      {.common_name = "metricsd", .client = true, .not_before = -2 * 86400s, .not_after = -86400s});
  std::string web = dir.Write("web.yml", "tls_server_config:\n  cert_file: " + server.cert_file +
                                             "\n  key_file: " + server.key_file +
                                             "\n  client_auth_type: RequireAndVerifyClientCert\n"
                                             "  client_ca_file: " +
                                             pki.ca_file() + "\n");
  Prometheus prometheus(dir, "mtls", testing::FreePort());
  ASSERT_TRUE(prometheus.Start(web));
  int port = testing::FreePort();
  std::string config = dir.Write(
      "c.json",
      R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
          R"(},"collector":{"interval_seconds":1,"enable_disk":false,"enable_network":false},
                    "data_dir":")" +
          dir.path() + R"(/data",
                    "shipper":{"type":"prometheus_remote_write","endpoint":"https://127.0.0.1:)" +
          std::to_string(prometheus.port()) + R"(/api/v1/write",
                    "tls":{"enabled":true,"ca_file":")" +
          pki.ca_file() + R"(","cert_file":")" + client.cert_file + R"(","key_file":")" +
          client.key_file + R"("},
                    "queue":{"min_backoff":"100ms","max_backoff":"500ms"}}})");
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port)["shippers"]["default"];
        return h.is_object() && h.contains("last_error");
      },
      15s))
      << daemon.Stderr();
  EXPECT_FALSE(Health(port)["shippers"]["default"].contains("last_success"));

  pki.Issue("client", {.common_name = "metricsd", .client = true});  // same file names
  daemon.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port)["shippers"]["default"];
        return h.is_object() && h.contains("last_success") && h["pending_samples"] == 0;
      },
      20s))
      << daemon.Stderr();
}

// Scrapes one endpoint (names kept: empty prefix) every second and remote-writes to
// `write_url`; the host collectors are off. `extra`: more top-level keys, each with its comma.
std::string ScrapeAndShipConfig(const TempDir& dir, int port, const std::string& name,
                                const std::string& url, const std::string& write_url,
                                const std::string& extra) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_cpu":false,"enable_memory":false,
         "enable_disk":false,"enable_network":false,"enable_host":false,
         "enable_pressure":false},"data_dir":")" +
         dir.path() + R"(/data",)" + extra + R"("endpoints":[{"name":")" + name + R"(","url":")" +
         url + R"(","metric_prefix":""}],
         "shipper":{"type":"prometheus_remote_write","endpoint":")" +
         write_url + R"("}})";
}

// Scrape a real Prometheus server's own /metrics and remote-write what was read back into it:
// the series arrive with the endpoint label, names kept (empty prefix), values intact.
TEST(Shipping, ScrapedPrometheusMetricsLandInPrometheus) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "self", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  int port = testing::FreePort();
  std::string config = dir.Write(
      "c.json",
      ScrapeAndShipConfig(
          dir, port, "prom", "http://127.0.0.1:" + std::to_string(prometheus.port()) + "/metrics",
          prometheus.url(), R"("global_labels":{"cluster":"eu1","version":"global"},)"));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  auto query = [&](const std::string& promql) -> nlohmann::json {
    nlohmann::json data = prometheus.Query(promql);
    return data.is_null() ? nlohmann::json::array() : data["result"];
  };
  ASSERT_TRUE(
      WaitFor([&] { return !query(R"(prometheus_build_info{endpoint="prom"})").empty(); }, 30s))
      << daemon.Stderr();
  auto build_info = query(R"(prometheus_build_info{endpoint="prom"})");
  ASSERT_EQ(build_info.size(), 1u);
  EXPECT_EQ(build_info[0]["value"][1], "1");
  // Global labels reach scraped series; a label the target set wins over a global one.
  EXPECT_EQ(build_info[0]["metric"]["cluster"], "eu1");
  ASSERT_TRUE(build_info[0]["metric"].contains("version"));
  EXPECT_NE(build_info[0]["metric"]["version"], "global");
  // Every series of a scrape landed: at least as many as metricsd counted in one scrape.
  std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
  std::string key = "\nmetricsd_scrape_samples{endpoint=\"prom\"} ";
  std::size_t at = metrics.find(key);
  ASSERT_NE(at, std::string::npos) << metrics;
  double scraped = std::stod(metrics.substr(at + key.size()));
  EXPECT_GT(scraped, 100);
  auto count = query(R"(count({endpoint="prom"}))");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_GE(std::stod(count[0]["value"][1].get<std::string>()), scraped);
  // Counters stay counters: a _total series is there under its own name.
  EXPECT_FALSE(query(R"(prometheus_http_requests_total{endpoint="prom"})").empty());
}

// An in-test receiver that answers with a scripted status and counts requests.
class ScriptedReceiver {
 public:
  explicit ScriptedReceiver(std::function<int(int request_number)> status) {
    server_.http().Post("/write", [this, status](const httplib::Request&, httplib::Response& res) {
      int n = ++requests_;
      res.status = status(n);
      if (res.status >= 400) res.set_content("scripted failure", "text/plain");
    });
    server_.Start();
  }
  std::string url() const { return server_.url("/write"); }
  int requests() const { return requests_.load(); }

 private:
  std::atomic<int> requests_{0};
  testing::LocalHttpServer server_;  // last: stopped before the counter its handler uses
};

std::string ShipperConfig(const TempDir& dir, int port, const std::string& url) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_disk":false,"enable_network":false},
         "data_dir":")" +
         dir.path() + R"(/data",
         "shipper":{"type":"prometheus_remote_write","endpoint":")" +
         url + R"(","queue":{"min_backoff":"100ms","max_backoff":"400ms"}}})";
}

// The value of the first sample line starting with `prefix` (not HELP/TYPE lines).
double MetricValue(const std::string& metrics, const std::string& prefix) {
  std::size_t at = metrics.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  ++at;
  std::size_t space = metrics.find(' ', at + prefix.size());
  return std::stod(metrics.substr(space + 1, metrics.find('\n', space) - space - 1));
}

// Requests rebuilt from the last cycle's snappy skeletons (docs/queue.md) land in Prometheus
// with each scrape's own values. The target's ten series all read 7 in its first scrapes (so
// snappy's block copies each value from its neighbour, the case a skeleton must not keep),
// then series i reads 10 * scrape + i.
TEST(Shipping, RequestsRebuiltFromTheLastCycleCarryEachScrapesNewValues) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "rebuilt", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  std::atomic<int> scrapes{0};
  testing::LocalHttpServer target;
  target.http().Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    const int n = scrapes++;
    std::string body = "# TYPE app_value gauge\n";
    for (int i = 0; i < 10; ++i) {
      const int value = n < 3 ? 7 : 10 * n + i;
      body += "app_value{series=\"" + std::to_string(i) + "\"} " + std::to_string(value) + "\n";
    }
    res.set_content(body, "text/plain; version=0.0.4");
  });
  target.Start();
  int port = testing::FreePort();
  std::string config =
      dir.Write("c.json", ScrapeAndShipConfig(dir, port, "app", target.url("/metrics"),
                                              prometheus.url(), R"("ship_self_metrics":false,)"));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  const std::string rebuilt = R"(metricsd_remote_write_runs_compressed_total{how="rebuilt"})";
  ASSERT_TRUE(WaitFor(
      [&] {
        return scrapes >= 7 &&
               MetricValue(HttpGet("127.0.0.1", port, "/metrics").body, rebuilt) >= 3;
      },
      30s))
      << daemon.Stderr();
  // Every stored sample of every series, from the fourth scrape on, is that series' own value.
  nlohmann::json result;
  const auto fewest_own_values = [&] {
    nlohmann::json data = prometheus.Query(R"(app_value{endpoint="app"}[60s])");
    result = data.is_null() ? nlohmann::json::array() : data["result"];
    std::size_t fewest = result.size() == 10 ? SIZE_MAX : 0;
    for (const nlohmann::json& series : result) {
      std::size_t own = 0;
      for (const nlohmann::json& point : series["values"]) {
        own += point[1].get<std::string>() != "7";
      }
      fewest = std::min(fewest, own);
    }
    return fewest;
  };
  ASSERT_TRUE(WaitFor([&] { return fewest_own_values() >= 3; }, 20s)) << result.dump();
  for (const nlohmann::json& series : result) {
    const int i = std::stoi(series["metric"]["series"].get<std::string>());
    for (const nlohmann::json& point : series["values"]) {
      const int value = std::stoi(point[1].get<std::string>());
      if (value != 7) {
        EXPECT_EQ(value % 10, i) << series.dump();
      }
    }
  }
}

TEST(Shipping, BadRequestIsDroppedAndCountedWithoutRetryStorm) {
  ScriptedReceiver receiver([](int) { return 400; });
  TempDir dir;
  int port = testing::FreePort();
  ChildProcess daemon(METRICSD_BINARY,
                      {"-config", dir.Write("c.json", ShipperConfig(dir, port, receiver.url()))},
                      testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return receiver.requests() >= 3; }, 15s)) << daemon.Stderr();
  std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
  double cycles = MetricValue(metrics, "metricsd_collection_cycles_total");
  EXPECT_GT(MetricValue(metrics, R"(metricsd_shipper_samples_dropped_total{reason="http_400")"), 0);
  // One request per cycle at most (plus one in flight): a 400 is never retried.
  EXPECT_LE(receiver.requests(), cycles + 1);
  std::string log = daemon.Stderr();
  std::size_t first = log.find("rejected");
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("rejected", first + 1), std::string::npos) << "one log line per cause";
}

TEST(Shipping, ServerErrorsAreRetriedUntilTheReceiverRecovers) {
  ScriptedReceiver receiver([](int n) { return n <= 4 ? 500 : 204; });
  TempDir dir;
  int port = testing::FreePort();
  ChildProcess daemon(METRICSD_BINARY,
                      {"-config", dir.Write("c.json", ShipperConfig(dir, port, receiver.url()))},
                      testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string m = HttpGet("127.0.0.1", port, "/metrics").body;
        return MetricValue(m, R"(metricsd_shipper_samples_sent_total{shipper="default"})") > 0 &&
               MetricValue(m, R"(metricsd_shipper_queue_batches{shipper="default"})") == 0;
      },
      20s))
      << daemon.Stderr();
  std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
  EXPECT_GT(MetricValue(metrics, R"(metricsd_shipper_samples_retried_total{shipper="default"})"),
            0);
  EXPECT_EQ(metrics.find("metricsd_shipper_samples_dropped_total{reason=\"http_500\""),
            std::string::npos);
}

// metricsd's own metrics ride with the host's by default (push-only fleets see the agent's
// health); ship_self_metrics: false leaves them on /metrics only.
TEST(Shipping, OwnMetricsAreShippedUnlessSwitchedOff) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus receiver(dir, "receiver", testing::FreePort());
  ASSERT_TRUE(receiver.Start());
  const auto start = [&](const std::string& instance, bool ship_self) {
    const int port = testing::FreePort();
    std::string config = dir.Write(
        instance + ".json",
        R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) + R"(},"instance":")" +
            instance + R"(","ship_self_metrics":)" + (ship_self ? "true" : "false") +
            R"(,"collector":{"interval_seconds":1,"enable_disk":false,"enable_network":false,
              "enable_pressure":false,"enable_cpu":false},"data_dir":")" +
            dir.path() + "/" + instance + R"(","shipper":{"type":"prometheus_remote_write",
              "endpoint":")" +
            receiver.url() + R"("}})");
    return std::make_unique<ChildProcess>(METRICSD_BINARY,
                                          std::vector<std::string>{"-config", config},
                                          testing::MetricsdTestEnv(), dir.path());
  };
  auto with_self = start("with-self", true);
  auto without_self = start("without-self", false);
  const auto series = [&](const std::string& promql) {
    nlohmann::json data = receiver.Query(promql);
    return data.is_null() ? -1 : static_cast<int>(data["result"].size());
  };
  // Both hosts' memory arrives; then a few more cycles, so that anything shipped has landed.
  ASSERT_TRUE(WaitFor([&] { return series("system_memory_total_bytes") == 2; }, 30s))
      << with_self->Stderr() << without_self->Stderr();
  std::this_thread::sleep_for(3s);
  for (const char* name : {"metricsd_collection_cycles_total", "metricsd_collector_up",
                           "metricsd_shipper_samples_sent_total", "process_cpu_seconds_total"}) {
    EXPECT_GT(series(std::string(name) + R"({instance="with-self"})"), 0) << name;
    EXPECT_EQ(series(std::string(name) + R"({instance="without-self"})"), 0) << name;
  }
}

}  // namespace
}  // namespace metricsd
