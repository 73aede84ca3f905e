// Scheduler: calls a tick function at start, start+interval, start+2*interval ... on its
// own std::jthread. Deadlines come from the steady clock and are computed from the start
// (next += interval), so ticks never drift; a tick that overruns skips the deadlines it
// missed instead of firing a burst, counts them and logs a warning. Stop() (or the jthread's stop
// token) ends the loop within one wait; it never interrupts a running tick.
//
// The Timer is injected so tests drive time by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "core/progress_mark.h"

namespace metricsd {

class Timer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Timer() = default;
  virtual TimePoint Now() = 0;
  // Waits until `deadline` or until stop is requested. Returns false when stopped.
  virtual bool WaitUntil(TimePoint deadline, std::stop_token stop) = 0;
};

class SteadyTimer final : public Timer {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(TimePoint deadline, std::stop_token stop) override;

 private:
  std::mutex mutex_;
  std::condition_variable_any wake_;
};

class Scheduler {
 public:
  using Tick = std::function<void(Timer::TimePoint scheduled)>;

  // `thread_name` names the thread Start() creates (see core/thread_name.h). A tick that
  // runs longer than `stall_after` shows in progress() as stalled. Skipped deadlines are
  // added to `skipped` when given (the owner keeps the count across schedulers).
  Scheduler(std::chrono::nanoseconds interval, Timer& timer, Tick tick,
            std::string thread_name = "metricsd-tick",
            std::chrono::nanoseconds stall_after = std::chrono::minutes(5),
            std::atomic<std::uint64_t>* skipped = nullptr)
      : interval_(interval),
        timer_(timer),
        tick_(std::move(tick)),
        thread_name_(std::move(thread_name)),
        progress_(stall_after),
        skipped_(skipped) {}
  ~Scheduler() { Stop(); }
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs the loop on the calling thread until `stop` is requested.
  void Run(std::stop_token stop);

  void Start();
  void Stop();

  const std::string& thread_name() const noexcept { return thread_name_; }
  const ProgressMark& progress() const noexcept { return progress_; }

 private:
  std::chrono::nanoseconds interval_;
  Timer& timer_;
  Tick tick_;
  std::string thread_name_;
  ProgressMark progress_;
  std::atomic<std::uint64_t>* skipped_;
  std::jthread thread_;
};

}  // namespace metricsd
