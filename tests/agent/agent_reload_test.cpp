// What an agent built by a reload takes over from the one before it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "agent/agent.h"
#include "config/options.h"

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

}  // namespace
}  // namespace metricsd
