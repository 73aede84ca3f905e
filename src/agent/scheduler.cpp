#include "agent/scheduler.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "core/thread_name.h"

namespace metricsd {

bool SteadyTimer::WaitUntil(TimePoint deadline, std::stop_token stop) {
  std::unique_lock lock(mutex_);
  // The predicate only looks at the stop token: wake-ups before the deadline re-wait.
  wake_.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

void Scheduler::Run(std::stop_token stop) {
  Timer::TimePoint next = timer_.Now();
  std::optional<Timer::TimePoint> warned_at;
  std::int64_t unwarned = 0;
  while (!stop.stop_requested()) {
    {
      BusyScope busy(&progress_);
      tick_(next);
    }
    next += interval_;
    Timer::TimePoint now = timer_.Now();
    if (next <= now) {
      // Overran: skip the missed deadlines, stay on the original grid.
      auto missed = (now - next) / interval_ + 1;
      next += missed * interval_;
      if (skipped_ != nullptr) {
        skipped_->fetch_add(static_cast<std::uint64_t>(missed), std::memory_order_relaxed);
      }
      // At most one warning a minute: a loop that always overruns must not flood the log.
      unwarned += missed;
      if (!warned_at || now - *warned_at >= std::chrono::minutes(1)) {
        spdlog::warn("{}: cycles ran past their next deadline; {} cycle(s) skipped", thread_name_,
                     unwarned);
        warned_at = now;
        unwarned = 0;
      }
    }
    if (!timer_.WaitUntil(next, stop)) {
      return;
    }
  }
}

void Scheduler::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    SetCurrentThreadName(thread_name_);
    Run(stop);
  });
}

void Scheduler::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

}  // namespace metricsd
