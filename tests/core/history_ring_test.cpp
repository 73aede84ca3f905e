#include "core/history_ring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace metricsd {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

// A steady time at the start of a 30 s slot, far from zero.
const std::chrono::steady_clock::time_point kStart{std::chrono::hours(1000)};

TEST(HistoryRing, EmptyHasNoPoints) {
  HistoryRing ring;
  EXPECT_TRUE(ring.Points(kStart).empty());
}

TEST(HistoryRing, KeepsTheLargestValueOfEachSlotOldestFirst) {
  HistoryRing ring;
  ring.Record(kStart, 1);
  ring.Record(kStart + 10s, 4);
  ring.Record(kStart + 20s, 2);
  ring.Record(kStart + 30s, 7);
  EXPECT_THAT(ring.Points(kStart + 30s), ElementsAre(4, 7));
}

TEST(HistoryRing, SlotsWithoutARecordAreLeftOut) {
  HistoryRing ring;
  ring.Record(kStart, 1);
  ring.Record(kStart + 90s, 2);
  EXPECT_THAT(ring.Points(kStart + 90s), ElementsAre(1, 2));
}

TEST(HistoryRing, KeepsOneHour) {
  HistoryRing ring;
  for (int i = 0; i < 200; ++i) {
    ring.Record(kStart + i * HistoryRing::kSlotWidth, i);
  }
  auto points = ring.Points(kStart + 199 * HistoryRing::kSlotWidth);
  ASSERT_EQ(points.size(), HistoryRing::kSlots);
  EXPECT_EQ(points.front(), 80);
  EXPECT_EQ(points.back(), 199);
  // An hour after the last record, nothing of it is left.
  EXPECT_TRUE(ring.Points(kStart + 199 * HistoryRing::kSlotWidth + 1h).empty());
}

}  // namespace
}  // namespace metricsd
