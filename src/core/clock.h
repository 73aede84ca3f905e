// Clocks are injected so that the scheduler, retry policy and rate computations can be
// driven by hand in tests. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace metricsd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point SteadyNow() const noexcept = 0;
  // Milliseconds since the Unix epoch (sample timestamps).
  virtual std::int64_t WallMillis() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const noexcept override {
    return std::chrono::steady_clock::now();
  }
  std::int64_t WallMillis() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace metricsd
