// The watchdog's view of the worker threads (core/progress_mark.h) and how the scheduler
// reports a collection cycle that hangs.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "agent/scheduler.h"
#include "core/progress_mark.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using Clock = ProgressMark::Clock;

TEST(ProgressMark, WaitingIsNeverStalledButLongWorkIs) {
  ProgressMark mark(10s);
  const Clock::time_point t0 = Clock::now();
  EXPECT_FALSE(mark.StalledFor(t0 + 24h));  // idle from the start
  mark.Busy(t0);
  EXPECT_FALSE(mark.StalledFor(t0 + 10s));
  ASSERT_TRUE(mark.StalledFor(t0 + 11s));
  EXPECT_EQ(*mark.StalledFor(t0 + 11s), 11s);
  mark.Idle();
  EXPECT_FALSE(mark.StalledFor(t0 + 24h));
  {
    BusyScope busy(&mark);
    EXPECT_TRUE(mark.StalledFor(Clock::now() + 1h));
  }
  EXPECT_FALSE(mark.StalledFor(Clock::now() + 1h));
}

TEST(Scheduler, ATickThatHangsShowsAsStalledUntilItReturns) {
  std::atomic<bool> release{false};
  std::atomic<bool> in_tick{false};
  SteadyTimer timer;
  Scheduler scheduler(
      1h, timer,
      [&](Timer::TimePoint) {
        in_tick = true;
        while (!release) {
          std::this_thread::sleep_for(1ms);
        }
        in_tick = false;
      },
      "md-test", 20ms);
  EXPECT_FALSE(scheduler.progress().StalledFor(Clock::now() + 1h));
  scheduler.Start();
  const auto deadline = Clock::now() + 20s;
  while (!scheduler.progress().StalledFor(Clock::now()) && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(scheduler.progress().StalledFor(Clock::now()));
  EXPECT_TRUE(in_tick);
  release = true;
  while (in_tick && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  // Back to waiting an hour for the next tick: that is progress.
  while (scheduler.progress().StalledFor(Clock::now() + 1h) && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_FALSE(scheduler.progress().StalledFor(Clock::now() + 1h));
  scheduler.Stop();
}

}  // namespace
}  // namespace metricsd
