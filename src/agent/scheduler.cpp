#include "agent/scheduler.h"

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
