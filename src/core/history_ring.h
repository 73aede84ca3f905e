// HistoryRing: the last hour of one figure in fixed 30 s slots (120 of them), for the status
// page's sparklines. A value type that never allocates while recording, so a collection cycle
// can feed it for free. A slot keeps the largest value recorded in it: a spike within 30 s is
// what a reader of a one-hour sparkline wants to see. Not thread-safe: its owner guards it.
// Time is steady-clock time, so that a wall-clock step neither loses nor invents history.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace metricsd {

class HistoryRing {
 public:
  static constexpr std::size_t kSlots = 120;
  static constexpr std::chrono::seconds kSlotWidth{30};

  void Record(std::chrono::steady_clock::time_point now, double value) noexcept {
    const std::int64_t index = SlotIndex(now);
    Slot& slot = slots_[static_cast<std::size_t>(index) % kSlots];
    if (slot.index != index) {
      slot = Slot{.index = index, .value = value};
    } else if (value > slot.value) {
      slot.value = value;
    }
  }

  // The recorded slots of the hour up to `now`, oldest first; slots without a record are
  // left out (the agent was not running, or the cycle was slower than 30 s).
  std::vector<double> Points(std::chrono::steady_clock::time_point now) const {
    const std::int64_t last = SlotIndex(now);
    std::vector<double> points;
    points.reserve(kSlots);
    for (std::int64_t index = last - static_cast<std::int64_t>(kSlots) + 1; index <= last;
         ++index) {
      if (index < 0) {
        continue;
      }
      const Slot& slot = slots_[static_cast<std::size_t>(index) % kSlots];
      if (slot.index == index) {
        points.push_back(slot.value);
      }
    }
    return points;
  }

 private:
  struct Slot {
    std::int64_t index = -1;  // which 30 s of steady time the value belongs to
    double value = 0;
  };

  static std::int64_t SlotIndex(std::chrono::steady_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()) / kSlotWidth;
  }

  std::array<Slot, kSlots> slots_{};
};

}  // namespace metricsd
