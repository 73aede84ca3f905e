// What an agent built by a reload takes over from the one before it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "config/options.h"
#include "net/builtin_net_api.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;

// Steady time moved by hand (the status page's history is kept in 30 s slots); wall time real.
class ManualClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const noexcept override {
    return std::chrono::steady_clock::time_point(offset_.load());
  }
  std::int64_t WallMillis() const noexcept override { return SystemClock().WallMillis(); }
  void Advance(std::chrono::steady_clock::duration d) { offset_ = offset_.load() + d; }

 private:
  std::atomic<std::chrono::steady_clock::duration> offset_{std::chrono::hours(1000)};
};

// Waits (at most 10 s) until the agent's status shows `points` collection-time points.
bool WaitForHistory(const Agent& agent, std::size_t points) {
  for (int i = 0; i < 1000; ++i) {
    if (agent.GatherStatus().collection_seconds_history.size() >= points) {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(AgentReload, TheStatusPageKeepsItsLastHour) {
  config::Config config;
  config.collector.interval = std::chrono::seconds(1);
  ManualClock clock;
  Agent first(config, HostPaths{}, ProcessInfo{}, clock, nullptr, {});
  first.Start();
  ASSERT_TRUE(WaitForHistory(first, 1));  // the first cycle runs at once
  first.StopCollection();

  clock.Advance(30s);  // the next slot of the history
  Agent second(config, HostPaths{}, ProcessInfo{}, clock, nullptr, first.queues());
  second.InheritHistory(first);
  second.Start();
  // The slot the first agent filled, then the second agent's own first cycle.
  EXPECT_TRUE(WaitForHistory(second, 2));
  EXPECT_EQ(second.GatherStatus().collection_seconds_history.size(), 2U);
  second.Stop();
  first.Stop();
}

// The value of the sample that starts with `series` in the agent's /metrics text; -1 if none.
double SelfMetric(Agent& agent, const std::string& series) {
  const MetricsBody body = agent.Metrics(false);
  std::string text;
  for (const auto& piece : body.pieces) {
    text += *piece;
  }
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(AgentReload, CountersCarryOnFromTheAgentBefore) {
  char dir[] = "/tmp/agent_reload.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  config::Config config;
  config.collector.interval = std::chrono::seconds(1);
  config.data_dir = dir;
  config::ShipperOptions shipper;
  shipper.name = "rw";
  shipper.endpoint = "http://127.0.0.1:9/api/v1/write";  // nothing listens: kept queued
  config.shippers.push_back(shipper);
  const std::string snappy = R"(metricsd_remote_write_runs_compressed_total{how="snappy"})";
  ManualClock clock;
  const std::shared_ptr<const NetApi> net = MakeBuiltinNetApi();
  Agent first(config, HostPaths{}, ProcessInfo{}, clock, net, {});
  first.Start();
  double before = -1;
  for (int i = 0; i < 1000 && before < 1; ++i) {  // at most 10 s
    before = SelfMetric(first, snappy);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(before, 1);
  first.StopCollection();
  before = SelfMetric(first, snappy);

  Agent second(config, HostPaths{}, ProcessInfo{}, clock, net, first.queues());
  second.InheritHistory(first);
  // Not started: nothing of its own yet, and still the count so far, no counter reset (the
  // first agent's /metrics shows its self-metrics as of its last cycle's start, so at most
  // one cycle less).
  EXPECT_GE(SelfMetric(second, snappy), before);
  EXPECT_GE(SelfMetric(second, "metricsd_collection_cycles_total"), 1);
  second.Stop();
  first.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace metricsd
