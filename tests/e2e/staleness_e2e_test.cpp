// End-to-end: series that vanish end at once in a real Prometheus (remote write carries the
// staleness marker), instead of lingering for the 5-minute lookback: an interface removed
// from the host, a collector switched off by a reload, a series a scrape target stops
// exposing, a failed scrape, and a target removed by a reload.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "support/local_http_server.h"
#include "support/process.h"
#include "support/prometheus.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Prometheus;
using testing::TempDir;
using testing::WaitFor;

// Number of series an instant query returns now; -1 when the query failed.
int SeriesNow(const Prometheus& prometheus, const std::string& promql) {
  nlohmann::json data = prometheus.Query(promql);
  return data.is_null() ? -1 : static_cast<int>(data["result"].size());
}

std::string Config(int port, const std::string& receiver, bool network) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_network":)" + (network ? "true" : "false") +
         R"(,"filesystems":{"mountpoint_include":"^/excludes-every-mount$"}},
           "shipper":{"type":"prometheus_remote_write","endpoint":")" +
         receiver + R"("}})";
}

TEST(StalenessE2e, VanishedInterfaceAndSwitchedOffCollectorEndAtOnce) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "receiver", testing::FreePort());
  ASSERT_TRUE(prometheus.Start()) << testing::ReadFile(prometheus.log_path());
  // A host whose /proc/net/dev the test can change.
  const std::string fixtures = METRICSD_FIXTURES_DIR;
  const std::string proc = dir.path() + "/proc";
  std::filesystem::copy(fixtures + "/proc", proc, std::filesystem::copy_options::recursive);
  auto env = testing::MetricsdTestEnv(dir.path() + "/data");
  env["HOST_PROC"] = proc;
  env["HOST_SYS"] = fixtures + "/sys";
  env["HOST_ROOT"] = fixtures + "/root";
  const int port = testing::FreePort();
  std::string config = dir.Write("config.json", Config(port, prometheus.url(), true));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, env, dir.path());

  const std::string docker0 = R"(system_network_bytes_recv_total{interface="docker0"})";
  const std::string eth0 = R"(system_network_bytes_recv_total{interface="eth0"})";
  ASSERT_TRUE(WaitFor([&] { return SeriesNow(prometheus, docker0) == 1; }, 30s)) << daemon.Stderr();

  // docker0 goes away. Rewritten in place: the collector keeps /proc/net/dev open and
  // re-reads it, as it would the kernel's.
  std::string dev = testing::ReadFile(proc + "/net/dev");
  dev.erase(dev.find("docker0:"), std::string::npos);
  std::ofstream(proc + "/net/dev", std::ios::trunc) << dev;
  // Without a marker the series would still answer for five minutes.
  EXPECT_TRUE(WaitFor([&] { return SeriesNow(prometheus, docker0) == 0; }, 20s)) << daemon.Stderr();
  // (A read between the truncation and the write may have ended eth0 for one cycle too.)
  EXPECT_TRUE(WaitFor([&] { return SeriesNow(prometheus, eth0) == 1; }, 10s));

  // A reload switches the network collector off: all of its series end.
  dir.Write("config.json", Config(port, prometheus.url(), false));
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(
      WaitFor([&] { return SeriesNow(prometheus, "system_network_bytes_recv_total") == 0; }, 20s))
      << daemon.Stderr();
  EXPECT_EQ(SeriesNow(prometheus, "system_load_1"), 1);  // the rest goes on
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
}

// A scrape target whose body and status the test sets.
class Target {
 public:
  Target() {
    server_.http().Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      res.status = status_;
      res.set_content(body_, "text/plain; version=0.0.4");
    });
    server_.Start();
  }
  void Serve(int status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string url() const { return server_.url("/metrics"); }

 private:
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  testing::LocalHttpServer server_;  // last: stopped before the state its handler uses
};

std::string ScrapeConfig(int port, const std::string& receiver, const std::string& target) {
  std::string endpoints =
      target.empty() ? "" : R"(,"endpoints":[{"name":"app","url":")" + target + R"("}])";
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_network":false,"enable_disk":false},
           "shipper":{"type":"prometheus_remote_write","endpoint":")" +
         receiver + R"("})" + endpoints + "}";
}

TEST(StalenessE2e, ScrapedSeriesEndWhenGoneWhenTheScrapeFailsAndWhenTheTargetIsRemoved) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "receiver", testing::FreePort());
  ASSERT_TRUE(prometheus.Start()) << testing::ReadFile(prometheus.log_path());
  Target target;
  const std::string both = "# TYPE one gauge\none 1\n# TYPE two gauge\ntwo 2\n";
  target.Serve(200, both);
  const int port = testing::FreePort();
  std::string config = dir.Write("config.json", ScrapeConfig(port, prometheus.url(), target.url()));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config},
                      testing::MetricsdTestEnv(dir.path() + "/data"), dir.path());
  ASSERT_TRUE(WaitFor([&] { return SeriesNow(prometheus, "app_two") == 1; }, 30s))
      << daemon.Stderr();

  // The target stops exposing `two`: it ends; `one` goes on.
  target.Serve(200, "# TYPE one gauge\none 1\n");
  EXPECT_TRUE(WaitFor([&] { return SeriesNow(prometheus, "app_two") == 0; }, 20s))
      << daemon.Stderr();
  EXPECT_EQ(SeriesNow(prometheus, "app_one"), 1);

  // A failing scrape ends everything the target had.
  target.Serve(500, "");
  EXPECT_TRUE(WaitFor([&] { return SeriesNow(prometheus, "app_one") == 0; }, 20s))
      << daemon.Stderr();

  // Back: both series again; then a reload removes the target and both end.
  target.Serve(200, both);
  ASSERT_TRUE(
      WaitFor([&] { return SeriesNow(prometheus, "{__name__=~\"app_one|app_two\"}") == 2; }, 20s))
      << daemon.Stderr();
  const std::string self = R"(metricsd_scrape_up{endpoint="app"})";
  ASSERT_EQ(SeriesNow(prometheus, self), 1);
  dir.Write("config.json", ScrapeConfig(port, prometheus.url(), ""));
  daemon.Signal(SIGHUP);
  EXPECT_TRUE(
      WaitFor([&] { return SeriesNow(prometheus, "{__name__=~\"app_one|app_two\"}") == 0; }, 20s))
      << daemon.Stderr();
  // The target's own health series end with it.
  EXPECT_TRUE(WaitFor([&] { return SeriesNow(prometheus, self) == 0; }, 20s)) << daemon.Stderr();
  EXPECT_EQ(SeriesNow(prometheus, "system_load_1"), 1);  // the host goes on
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(20s), 0);
}

}  // namespace
}  // namespace metricsd
