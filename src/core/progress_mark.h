// ProgressMark: tells a thread that waits from a thread that hangs, for the watchdog.
//
// A worker thread marks the start of each piece of work (Busy) and its return to waiting
// (Idle). A thread that has been busy longer than its limit is stalled; a thread that waits,
// however long, is not: an idle agent with a 60 s interval must keep feeding the watchdog.
// Busy/Idle are one relaxed atomic store each; StalledFor may be called from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace metricsd {

class ProgressMark {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ProgressMark(std::chrono::nanoseconds limit) : limit_(limit) {}
  ProgressMark(const ProgressMark&) = delete;
  ProgressMark& operator=(const ProgressMark&) = delete;

  void Busy(Clock::time_point now = Clock::now()) noexcept {
    // 0 means idle, so a busy mark is never 0.
    busy_since_.store(std::max<std::int64_t>(1, now.time_since_epoch().count()),
                      std::memory_order_relaxed);
  }
  void Idle() noexcept { busy_since_.store(0, std::memory_order_relaxed); }

  // How long the current piece of work has run, when that is longer than the limit.
  std::optional<std::chrono::nanoseconds> StalledFor(Clock::time_point now) const noexcept {
    const std::int64_t since = busy_since_.load(std::memory_order_relaxed);
    if (since == 0) {
      return std::nullopt;
    }
    const auto busy = now - Clock::time_point(Clock::duration(since));
    if (busy <= limit_) {
      return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(busy);
  }

  std::chrono::nanoseconds limit() const noexcept { return limit_; }

 private:
  const std::chrono::nanoseconds limit_;
  std::atomic<std::int64_t> busy_since_{0};  // steady clock ticks; 0 while idle
};

// Marks the calling thread busy for the scope's life.
class BusyScope {
 public:
  explicit BusyScope(ProgressMark* mark) noexcept : mark_(mark) {
    if (mark_ != nullptr) {
      mark_->Busy();
    }
  }
  ~BusyScope() {
    if (mark_ != nullptr) {
      mark_->Idle();
    }
  }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  ProgressMark* mark_;
};

}  // namespace metricsd
