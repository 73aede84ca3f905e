#include "procfs/proc_diskstats.h"

#include <gtest/gtest.h>

#include <string>

namespace metricsd::procfs {
namespace {

struct DiskCase {
  const char* name;
  const char* line;
  int fields;
};

class DiskstatsFields : public testing::TestWithParam<DiskCase> {};

TEST_P(DiskstatsFields, ParsesCommonColumns) {
  DiskstatsLine line;
  ASSERT_TRUE(ParseDiskstatsLine(GetParam().line, line));
  EXPECT_EQ(line.field_count, GetParam().fields);
  EXPECT_EQ(line.major, 8u);
  EXPECT_EQ(line.minor, 0u);
  EXPECT_EQ(line.name, "sda");
  EXPECT_EQ(line.stats.reads_completed, 1000u);
  EXPECT_EQ(line.stats.sectors_read, 80000u);
  EXPECT_EQ(line.stats.writes_completed, 2000u);
  EXPECT_EQ(line.stats.sectors_written, 160000u);
  EXPECT_EQ(line.stats.read_time_ms, 500u);
  EXPECT_EQ(line.stats.write_time_ms, 1500u);
  EXPECT_EQ(line.stats.ios_in_progress, 2u);
  EXPECT_EQ(line.stats.io_time_ms, 3000u);
  EXPECT_EQ(line.stats.weighted_io_time_ms, 4000u);
  EXPECT_EQ(line.stats.discards_completed, GetParam().fields >= 18 ? 5u : 0u);
  EXPECT_EQ(line.stats.flushes_completed, GetParam().fields >= 20 ? 7u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, DiskstatsFields,
    testing::Values(
        DiskCase{"before_4_18",
                 "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000", 14},
        DiskCase{"discard_4_18",
                 "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000 5 0 40 1", 18},
        DiskCase{"flush_5_5",
                 "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000 5 0 40 1 7 8",
                 20}),
    [](const testing::TestParamInfo<DiskCase>& info) { return std::string(info.param.name); });

TEST(ProcDiskstats, OldPartitionLinesHaveFourCounters) {
  DiskstatsLine line;
  ASSERT_TRUE(ParseDiskstatsLine("   8    1 sda1 35486 38030 7 96", line));
  EXPECT_EQ(line.field_count, 7);
  EXPECT_EQ(line.stats.reads_completed, 35486u);
  EXPECT_EQ(line.stats.sectors_read, 38030u);
  EXPECT_EQ(line.stats.writes_completed, 7u);
  EXPECT_EQ(line.stats.sectors_written, 96u);
}

TEST(ProcDiskstats, RejectsMalformedLines) {
  DiskstatsLine line;
  EXPECT_FALSE(ParseDiskstatsLine("", line));
  EXPECT_FALSE(ParseDiskstatsLine("   8   0", line));
  EXPECT_FALSE(ParseDiskstatsLine("   8   0 sda 1 2 3", line));
  EXPECT_FALSE(ParseDiskstatsLine("   x   0 sda 1 2 3 4 5 6 7 8 9 10 11", line));
  EXPECT_FALSE(ParseDiskstatsLine("   8   0 sda 1 2 3 4 5 6 7 8 9 10 -11", line));
}

TEST(ProcDiskstats, SplitThenParseIsParseDiskstatsLine) {
  for (std::string_view text :
       {"   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000 5 0 40 1 7 8",
        "   8    1 sda1 35486 38030 7 96"}) {
    DiskstatsLine whole;
    ASSERT_TRUE(ParseDiskstatsLine(text, whole));
    DiskstatsLine split;
    std::string_view counters;
    ASSERT_TRUE(SplitDiskstatsLine(text, split, counters));
    EXPECT_EQ(split.major, whole.major);
    EXPECT_EQ(split.minor, whole.minor);
    EXPECT_EQ(split.name, whole.name);
    EXPECT_EQ(split.stats, DiskStats{});
    ASSERT_TRUE(ParseDiskstatsCounters(counters, split));
    EXPECT_EQ(split.field_count, whole.field_count);
    EXPECT_EQ(split.stats, whole.stats);
  }
}

TEST(ProcDiskstats, SplitNeedsOnlyTheNameCountersAreCheckedLater) {
  DiskstatsLine line;
  std::string_view counters;
  ASSERT_TRUE(SplitDiskstatsLine("   7   0 loop0 1 2 x", line, counters));
  EXPECT_EQ(line.name, "loop0");
  EXPECT_FALSE(ParseDiskstatsCounters(counters, line));
  EXPECT_FALSE(SplitDiskstatsLine("   8   0", line, counters));
  EXPECT_FALSE(SplitDiskstatsLine("   x   0 sda 1 2 3 4", line, counters));
}

TEST(ProcDiskstats, DifferenceOfCountersKeepsTheInFlightGauge) {
  DiskStats before{.reads_completed = 10, .sectors_read = 100, .ios_in_progress = 4};
  DiskStats now{.reads_completed = 15, .sectors_read = 90, .ios_in_progress = 1};
  DiskStats d = now - before;
  EXPECT_EQ(d.reads_completed, 5u);
  EXPECT_EQ(d.sectors_read, 0u);
  EXPECT_EQ(d.ios_in_progress, 1u);
}

}  // namespace
}  // namespace metricsd::procfs
