#include "agent/scheduler.h"

#include <gtest/gtest.h>

#include <vector>

namespace metricsd {
namespace {

using namespace std::chrono_literals;

// Virtual time: waiting jumps straight to the deadline; ticks can "take" time.
class FakeTimer final : public Timer {
 public:
  TimePoint Now() override { return now_; }
  bool WaitUntil(TimePoint deadline, std::stop_token stop) override {
    waits_.push_back(deadline);
    if (deadline > now_) now_ = deadline;
    return !stop.stop_requested();
  }
  void Advance(std::chrono::nanoseconds d) { now_ += d; }
  const std::vector<TimePoint>& waits() const { return waits_; }

 private:
  TimePoint now_{std::chrono::seconds(1000)};
  std::vector<TimePoint> waits_;
};

TEST(Scheduler, TicksOnAFixedGridWithoutDrift) {
  FakeTimer timer;
  std::stop_source stop;
  std::vector<Timer::TimePoint> ticks;
  Timer::TimePoint start = timer.Now();
  Scheduler scheduler(10s, timer, [&](Timer::TimePoint scheduled) {
    ticks.push_back(scheduled);
    timer.Advance(3s);  // each tick takes a while: must not shift the grid
    if (ticks.size() == 5) stop.request_stop();
  });
  scheduler.Run(stop.get_token());
  ASSERT_EQ(ticks.size(), 5u);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_EQ(ticks[i], start + i * 10s) << i;
  }
}

TEST(Scheduler, OverrunSkipsMissedTicksInsteadOfBursting) {
  FakeTimer timer;
  std::stop_source stop;
  std::vector<Timer::TimePoint> ticks;
  Timer::TimePoint start = timer.Now();
  std::atomic<std::uint64_t> skipped{0};
  Scheduler scheduler(
      10s, timer,
      [&](Timer::TimePoint scheduled) {
        ticks.push_back(scheduled);
        if (ticks.size() == 1) timer.Advance(25s);  // misses the 10s and 20s deadlines
        if (ticks.size() == 2) timer.Advance(9s);   // late, but before the next deadline
        if (ticks.size() == 3) stop.request_stop();
      },
      "test-tick", 5min, &skipped);
  scheduler.Run(stop.get_token());
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[1], start + 30s);
  EXPECT_EQ(ticks[2], start + 40s);
  EXPECT_EQ(skipped.load(), 2u);  // what the operator sees as gaps in the series
}

TEST(Scheduler, StopEndsTheWait) {
  SteadyTimer timer;
  std::atomic<int> ticks{0};
  Scheduler scheduler(1h, timer, [&](Timer::TimePoint) { ++ticks; });
  scheduler.Start();
  // The first tick runs at once; then the loop waits an hour unless stopped.
  for (int i = 0; i < 2000 && ticks.load() == 0; ++i) {
    std::this_thread::sleep_for(1ms);
  }
  auto before = std::chrono::steady_clock::now();
  scheduler.Stop();
  EXPECT_EQ(ticks.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1h);  // returned: did not sleep the hour
}

}  // namespace
}  // namespace metricsd
