// What lands in the receiver stays complete and right through ordinary operations, end to
// end with the real binary and a real Prometheus: a reload followed by kill -9, a reload that
// removes a shipper, a receiver that refuses our credentials, and two hosts shipping to one
// receiver.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/bcrypt.h"
#include "support/local_http_server.h"
#include "support/process.h"
#include "support/prometheus.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::Prometheus;
using testing::TempDir;
using testing::WaitFor;

nlohmann::json Health(int port) { return testing::HealthJson(port); }

long long WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A daemon that collects memory figures every second and ships them to `shippers` (a JSON
// array body).
std::string Config(const TempDir& dir, int port, const std::string& shippers,
                   const std::string& extra = "") {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_cpu":false,"enable_disk":false,
         "enable_network":false,"enable_host":false,"enable_pressure":false},
         "data_dir":")" +
         dir.path() + R"(/data",)" + extra + R"("shippers":[)" + shippers + "]}";
}

std::string Shipper(const std::string& name, const std::string& url,
                    const std::string& extra = "") {
  return R"({"name":")" + name + R"(","type":"prometheus_remote_write","endpoint":")" + url +
         R"(","timeout":"2s","queue":{"min_backoff":"200ms","max_backoff":"2s"})" + extra + "}";
}

std::unique_ptr<ChildProcess> StartDaemon(
    const TempDir& dir, const std::string& config,
    std::map<std::string, std::optional<std::string>> env = testing::MetricsdTestEnv()) {
  return std::make_unique<ChildProcess>(
      METRICSD_BINARY, std::vector<std::string>{"-config", config}, env, dir.path());
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Consecutive timestamps further apart than one interval and a half: samples lost.
std::vector<std::pair<long long, long long>> Gaps(const std::set<long long>& timestamps,
                                                  long long until_ms) {
  std::vector<std::pair<long long, long long>> gaps;
  long long previous = -1;
  for (long long ts : timestamps) {
    if (ts > until_ms) {
      break;
    }
    if (previous >= 0 && ts - previous > 1500) {
      gaps.emplace_back(previous, ts);
    }
    previous = ts;
  }
  return gaps;
}

std::string Describe(const std::vector<std::pair<long long, long long>>& gaps) {
  std::string out;
  for (const auto& [from, to] : gaps) {
    out += std::to_string(from) + ".." + std::to_string(to) + " ";
  }
  return out;
}

// Collection cycles (1 s apart) missing from the gaps.
long long MissingCycles(const std::vector<std::pair<long long, long long>>& gaps) {
  long long missing = 0;
  for (const auto& [from, to] : gaps) {
    missing += (to - from + 500) / 1000 - 1;
  }
  return missing;
}

double MetricSum(const std::string& metrics, const std::string& prefix) {
  double sum = 0;
  std::size_t at = 0;
  while ((at = metrics.find("\n" + prefix, at)) != std::string::npos) {
    std::size_t end = metrics.find('\n', at + 1);
    std::string line = metrics.substr(at + 1, end - at - 1);
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    at = end;
  }
  return sum;
}

// Deadlines the daemon skipped because a cycle overran (a loaded machine, a slow disk):
// those cycles were never collected, so their gaps are not losses.
double SkippedCycles(int port) {
  return MetricSum(HttpGet("127.0.0.1", port, "/metrics").body,
                   "metricsd_collection_cycles_skipped_total");
}

// A good reload keeps each queue (no second open of the on-disk buffer, /ready stays 200),
// and a kill -9 within a second of SIGHUP loses nothing collected before it.
TEST(Trust, SighupThenKill9LosesNoSampleAndReadyStaysUp) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "reload", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  const int port = testing::FreePort();
  const std::string config =
      dir.Write("c.json", Config(dir, port, Shipper("main", prometheus.url())));
  auto daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor([&] { return Health(port)["ready"] == true; }, 10s)) << daemon->Stderr();
  ASSERT_TRUE(WaitFor(
      [&] { return prometheus.Timestamps("system_memory_total_bytes", "5m").size() >= 3; }, 20s))
      << daemon->Stderr();

  // Each agent a reload builds counts skipped cycles from zero: add them up before each one.
  double skipped = SkippedCycles(port);
  // A good reload: /ready answers 200 throughout.
  daemon->Signal(SIGHUP);
  int not_ready = 0;
  int probes = 0;
  const auto watch_until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < watch_until) {
    not_ready += HttpGet("127.0.0.1", port, "/ready").status != 200;
    ++probes;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(not_ready, 0) << "of " << probes << " probes";
  ASSERT_TRUE(WaitFor([&] { return Count(daemon->Stderr(), "configuration reloaded") == 1; }, 5s))
      << daemon->Stderr();
  EXPECT_EQ(Health(port)["shippers"]["main"]["disk_ok"], true);

  // A second reload, then a crash within the second.
  skipped += SkippedCycles(port);
  const long long reload_ms = WallMs();
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Count(daemon->Stderr(), "configuration reloaded") == 2; }, 1s))
      << daemon->Stderr();
  std::this_thread::sleep_for(300ms);  // the new agent's first cycle runs at once
  skipped += SkippedCycles(port);
  const long long kill_ms = WallMs();
  daemon->Signal(SIGKILL);
  daemon->Wait(5s);
  const std::string first_log = daemon->Stderr();
  EXPECT_THAT(first_log, Not(HasSubstr("in use by another")));
  EXPECT_THAT(first_log, Not(HasSubstr("buffering up to")));  // no fallback to memory

  daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port);
        return h["ready"] == true && h["shippers"]["main"]["pending_samples"] == 0;
      },
      30s))
      << daemon->Stderr();
  const std::set<long long> stored = prometheus.Timestamps("system_memory_total_bytes", "5m");
  ASSERT_FALSE(stored.empty());
  // The cycle the reloaded agent ran before the crash was replayed from disk.
  EXPECT_TRUE(std::any_of(stored.begin(), stored.end(),
                          [&](long long ts) { return ts >= reload_ms - 50 && ts < kill_ms; }))
      << "no sample between the reload at " << reload_ms << " and the kill at " << kill_ms;
  const auto gaps = Gaps(stored, kill_ms);
  EXPECT_LE(MissingCycles(gaps), skipped) << Describe(gaps) << first_log;
  // Every shipped series names its host: instance defaults to the host name.
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  auto series = prometheus.Query("system_memory_total_bytes");
  ASSERT_EQ(series["result"].size(), 1u) << series.dump();
  EXPECT_EQ(series["result"][0]["metric"]["instance"], host);
}

// Scrape targets whose every series carries the number of the request that served it, so
// the receiver shows exactly which scrapes landed.
class CountingTargets {
 public:
  static constexpr int kTargets = 10;
  static constexpr int kSeries = 500;

  CountingTargets() : server_(kTargets + 4) {  // a worker per kept-alive scrape, and spares
    for (int t = 0; t < kTargets; ++t) {
      server_.http().Get("/t" + std::to_string(t), [this, t](const httplib::Request&,
                                                             httplib::Response& res) {
        const int n = ++served_[t];
        std::string body = "# TYPE storm_value gauge\n";
        for (int s = 0; s < kSeries; ++s) {
          body += "storm_value{series=\"" + std::to_string(s) + "\"} " + std::to_string(n) + "\n";
        }
        res.set_content(body, "text/plain; version=0.0.4");
      });
    }
    server_.Start();
  }
  std::string Endpoints() const {
    std::string out;
    for (int t = 0; t < kTargets; ++t) {
      out += std::string(t == 0 ? "" : ",") + R"({"name":"t)" + std::to_string(t) + R"(","url":")" +
             server_.url("/t" + std::to_string(t)) + R"(","metric_prefix":""})";
    }
    return "[" + out + "]";
  }
  int served(int t) const { return served_[t].load(); }

 private:
  std::array<std::atomic<int>, kTargets> served_{};
  testing::LocalHttpServer server_;  // last: stopped before the counters its handlers use
};

// The values (request numbers) stored for one series of each target, by endpoint name.
std::map<std::string, std::set<int>> StoredValues(const Prometheus& prometheus,
                                                  const std::string& series) {
  std::map<std::string, std::set<int>> out;
  nlohmann::json data = prometheus.Query("storm_value{series=\"" + series + "\"}[5m]");
  if (data.is_null()) {
    return out;
  }
  for (const auto& result : data["result"]) {
    auto& values = out[result["metric"]["endpoint"].get<std::string>()];
    for (const auto& value : result["values"]) {
      values.insert(std::stoi(value[1].get<std::string>()));
    }
  }
  return out;
}

// kill -9 while ten targets of 500 series are scraped every second and the receiver is not
// up yet (so every scrape waits in the buffer): after a restart, every scrape queued before
// the kill reaches the receiver, whole. Only the scrape in progress at the kill (one per
// target at most) may be missing.
TEST(Trust, Kill9DuringAScrapeStormLosesNothingQueued) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "storm", testing::FreePort());
  CountingTargets targets;
  const int port = testing::FreePort();
  const std::string config =
      dir.Write("c.json", Config(dir, port, Shipper("main", prometheus.url()),
                                 R"("endpoints":)" + targets.Endpoints() + ","));
  auto daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor([&] { return targets.served(CountingTargets::kTargets - 1) >= 4; }, 20s))
      << daemon->Stderr();
  EXPECT_GT(Health(port)["shippers"]["main"]["pending_samples"].get<long long>(), 0);
  daemon->Signal(SIGKILL);
  daemon->Wait(5s);
  std::array<int, CountingTargets::kTargets> served_before{};
  for (int t = 0; t < CountingTargets::kTargets; ++t) {
    served_before[t] = targets.served(t);
  }
  ASSERT_TRUE(prometheus.Start());

  daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port);
        return h["ready"] == true && h["shippers"]["main"]["pending_samples"] == 0 &&
               targets.served(0) >= served_before[0] + 2;
      },
      30s))
      << daemon->Stderr();
  for (const std::string series : {"0", "499"}) {  // the first and the last line of each body
    std::map<std::string, std::set<int>> stored;
    // What the sender had delivered when pending reached 0 is queryable at once; allow the
    // receiver a moment for the last request.
    WaitFor(
        [&] {
          stored = StoredValues(prometheus, series);
          return stored.size() == static_cast<std::size_t>(CountingTargets::kTargets);
        },
        5s);
    std::string present;
    for (const auto& [endpoint, values] : stored) {
      present += endpoint + "(" + std::to_string(values.size()) + ") ";
    }
    ASSERT_EQ(stored.size(), static_cast<std::size_t>(CountingTargets::kTargets))
        << "series " << series << " of " << present << "\n"
        << daemon->Stderr();
    for (int t = 0; t < CountingTargets::kTargets; ++t) {
      const std::set<int>& values = stored["t" + std::to_string(t)];
      std::vector<int> missing;
      for (int n = 1; n < served_before[t]; ++n) {
        if (!values.contains(n)) {
          missing.push_back(n);
        }
      }
      EXPECT_THAT(missing, ::testing::IsEmpty())
          << "target t" << t << " series " << series << ": " << served_before[t]
          << " scrapes served before the kill";
    }
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(20s), 0);
}

// A reload that fails validation leaves the running agent as it was.
TEST(Trust, BadReloadKeepsTheRunningAgent) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "bad", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  const int port = testing::FreePort();
  const std::string good = Config(dir, port, Shipper("main", prometheus.url()));
  const std::string config = dir.Write("c.json", good);
  auto daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor([&] { return Health(port)["ready"] == true; }, 10s)) << daemon->Stderr();
  dir.Write(
      "c.json",
      Config(dir, port, Shipper("main", prometheus.url(), R"(,"tls":{"min_version":"TLS9"})")));
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(
      WaitFor([&] { return daemon->Stderr().find("reload failed") != std::string::npos; }, 5s))
      << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(), HasSubstr("min_version"));
  const long long after_ms = WallMs();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ts = prometheus.Timestamps("system_memory_total_bytes", "1m");
        return !ts.empty() && *ts.rbegin() > after_ms + 1000;
      },
      20s))
      << "collection or shipping stopped after a failed reload\n"
      << daemon->Stderr();
  EXPECT_EQ(Health(port)["status"], "healthy");
}

bool LockTaken(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const bool taken = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return taken;
}

// A shipper removed by a reload closes its queue, keeping its data on disk for when it
// comes back.
TEST(Trust, ReloadThatRemovesAShipperClosesItsQueueAndKeepsItsData) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "removed", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  const int port = testing::FreePort();
  const std::string down = "http://127.0.0.1:" + std::to_string(testing::FreePort()) + "/write";
  const std::string both =
      Config(dir, port, Shipper("main", prometheus.url()) + "," + Shipper("down", down));
  const std::string config = dir.Write("c.json", both);
  auto daemon = StartDaemon(dir, config);
  auto down_pending = [&] {
    const nlohmann::json pending = Health(port)["shippers"]["down"]["pending_samples"];
    return pending.is_number() ? pending.get<long long>() : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return down_pending() >= 3; }, 20s)) << daemon->Stderr();
  const std::string lock = dir.path() + "/data/down/lock";
  EXPECT_TRUE(LockTaken(lock));

  dir.Write("c.json", Config(dir, port, Shipper("main", prometheus.url())));
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Count(daemon->Stderr(), "configuration reloaded") == 1; }, 5s))
      << daemon->Stderr();
  EXPECT_TRUE(WaitFor([&] { return !LockTaken(lock); }, 5s)) << "the removed queue stayed open";
  EXPECT_FALSE(Health(port)["shippers"].contains("down"));
  std::uintmax_t queued_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/data/down")) {
    if (entry.path().extension() == ".wal") {
      queued_bytes += entry.file_size();
    }
  }
  EXPECT_GT(queued_bytes, 100u) << "the removed shipper's data was not kept";

  // Back again: the data is still there to send.
  dir.Write("c.json", both);
  daemon->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return Count(daemon->Stderr(), "configuration reloaded") == 2; }, 5s));
  EXPECT_GE(down_pending(), 3);
  EXPECT_THAT(daemon->Stderr(), Not(HasSubstr("in use by another")));
}

std::string Bcrypt(const std::string& password) { return testing::BcryptHash(password, 5); }

// A receiver that refuses our credentials holds the queue: nothing is dropped, it is probed
// rarely, and a corrected password file resumes delivery at once.
TEST(Trust, RefusedCredentialsHoldTheBufferUntilThePasswordFileIsFixed) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  const std::string hash = Bcrypt("right-pw");
  ASSERT_FALSE(hash.empty());
  const std::string web = dir.Write("web.yml", "basic_auth_users:\n  metricsd: " + hash + "\n");
  Prometheus prometheus(dir, "auth", testing::FreePort());
  ASSERT_TRUE(prometheus.Start(web));
  prometheus.SetQueryCredentials("metricsd", "right-pw");
  const std::string password_file = dir.Write("pw", "wrong-pw\n");
  const int port = testing::FreePort();
  const std::string config = dir.Write(
      "c.json", Config(dir, port,
                       Shipper("main", prometheus.url(),
                               R"(,"basic_auth":{"username":"metricsd","password_file":")" +
                                   password_file + R"("})")));
  const long long start_ms = WallMs();
  auto daemon = StartDaemon(dir, config);
  ASSERT_TRUE(WaitFor([&] { return Health(port)["shippers"]["main"]["held"] == true; }, 10s))
      << daemon->Stderr();
  std::this_thread::sleep_for(20s);
  auto health = Health(port);
  EXPECT_EQ(health["status"], "degraded");
  EXPECT_THAT(health["shippers"]["main"]["reason"].get<std::string>(), HasSubstr("HTTP 401"));
  EXPECT_GE(health["shippers"]["main"]["pending_samples"].get<long long>(), 18);
  const std::string metrics = HttpGet("127.0.0.1", port, "/metrics").body;
  const double refused =
      MetricSum(metrics, R"(metricsd_shipper_requests_total{code="401",shipper="main"})");
  EXPECT_GE(refused, 1);
  EXPECT_LT(refused, 25) << "a resend storm while refused";
  EXPECT_EQ(MetricSum(metrics, "metricsd_shipper_samples_dropped_total{"), 0) << metrics;

  // The operator fixes the secret the way secret managers do: a new file renamed into place.
  dir.Write("pw.new", "right-pw\n");
  std::filesystem::rename(dir.path() + "/pw.new", password_file);
  const auto fixed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = Health(port);
        return h["shippers"]["main"]["held"] == false &&
               h["shippers"]["main"]["pending_samples"] == 0;
      },
      30s))
      << daemon->Stderr();
  // At once: not after the next probe (max_backoff) but at the next look at the file.
  EXPECT_LT(std::chrono::steady_clock::now() - fixed, 5s);
  const long long end_ms = WallMs();
  const std::set<long long> stored = prometheus.Timestamps("system_memory_total_bytes", "2m");
  ASSERT_FALSE(stored.empty());
  EXPECT_LT(*stored.begin(), start_ms + 3000) << "the first samples were lost";
  // Every cycle collected reached the receiver: a gap is only a deadline the daemon reports
  // it skipped.
  const auto gaps = Gaps(stored, end_ms);
  EXPECT_LE(MissingCycles(gaps), SkippedCycles(port)) << Describe(gaps) << daemon->Stderr();
  EXPECT_EQ(MetricSum(HttpGet("127.0.0.1", port, "/metrics").body,
                      "metricsd_shipper_samples_dropped_total{"),
            0);
}

// Two hosts shipping to one receiver write separate series: no collisions, no out-of-order
// rejections.
TEST(Trust, TwoHostsShippingToOneReceiverAreToldApart) {
  if (!Prometheus::Available()) GTEST_SKIP() << "prometheus is not installed";
  TempDir dir;
  Prometheus prometheus(dir, "fleet", testing::FreePort());
  ASSERT_TRUE(prometheus.Start());
  std::vector<std::unique_ptr<TempDir>> data_dirs;   // each host has its own buffer
  std::vector<std::unique_ptr<ChildProcess>> hosts;  // stopped before their directories go
  std::vector<int> ports;
  for (const std::string name : {"host-a", "host-b"}) {
    const int port = testing::FreePort();
    data_dirs.push_back(std::make_unique<TempDir>());
    auto env = testing::MetricsdTestEnv();
    env["MC_INSTANCE"] = name;
    const std::string config = dir.Write(
        name + ".json", Config(*data_dirs.back(), port, Shipper("main", prometheus.url())));
    hosts.push_back(StartDaemon(dir, config, env));
    ports.push_back(port);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        auto data = prometheus.Query(
            "count by (instance) (count_over_time(system_memory_total_bytes[1m]) >= 5)");
        return !data.is_null() && data["result"].size() == 2;
      },
      30s))
      << hosts[0]->Stderr() << hosts[1]->Stderr();
  std::set<std::string> instances;
  const nlohmann::json series = prometheus.Query("system_memory_total_bytes");
  ASSERT_FALSE(series.is_null());
  for (const auto& r : series["result"]) {
    instances.insert(r["metric"]["instance"].get<std::string>());
  }
  EXPECT_EQ(instances, (std::set<std::string>{"host-a", "host-b"}));
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string metrics = HttpGet("127.0.0.1", ports[i], "/metrics").body;
    EXPECT_EQ(MetricSum(metrics, "metricsd_shipper_samples_dropped_total{"), 0) << metrics;
    // Pull mode stays without it: the scraper adds its own instance.
    EXPECT_THAT(metrics, HasSubstr("\nsystem_memory_total_bytes "));
    EXPECT_THAT(hosts[i]->Stderr(), Not(HasSubstr("out of order")));
    EXPECT_THAT(hosts[i]->Stderr(), Not(HasSubstr("rejected")));
  }
  EXPECT_THAT(testing::ReadFile(prometheus.log_path()), Not(HasSubstr("out of order")));
}

}  // namespace
}  // namespace metricsd
