#include <gtest/gtest.h>

#include "procfs/proc_loadavg.h"
#include "procfs/proc_mountinfo.h"
#include "procfs/proc_net_dev.h"
#include "procfs/proc_pressure.h"
#include "procfs/proc_uptime.h"
#include "procfs/text.h"

namespace metricsd::procfs {
namespace {

TEST(ProcNetDev, ParsesInterfaceLinesAndSkipsHeaders) {
  NetDevLine line;
  EXPECT_FALSE(ParseNetDevLine(
      "Inter-|   Receive                                                |  Transmit", line));
  EXPECT_FALSE(
      ParseNetDevLine(" face |bytes    packets errs drop fifo frame compressed "
                      "multicast|bytes    packets errs drop fifo colls carrier compressed",
                      line));
  ASSERT_TRUE(
      ParseNetDevLine("  eth0: 75126004    1453    1    2    3     4          5         6"
                      "     61639     799    7    8    9    10      11         12",
                      line));
  EXPECT_EQ(line.name, "eth0");
  EXPECT_EQ(line.stats.rx_bytes, 75126004u);
  EXPECT_EQ(line.stats.rx_packets, 1453u);
  EXPECT_EQ(line.stats.rx_errors, 1u);
  EXPECT_EQ(line.stats.rx_dropped, 2u);
  EXPECT_EQ(line.stats.rx_multicast, 6u);
  EXPECT_EQ(line.stats.tx_bytes, 61639u);
  EXPECT_EQ(line.stats.tx_packets, 799u);
  EXPECT_EQ(line.stats.tx_errors, 7u);
  EXPECT_EQ(line.stats.tx_dropped, 8u);
  EXPECT_EQ(line.stats.tx_compressed, 12u);
}

TEST(ProcNetDev, LargeCounterTouchingTheColon) {
  NetDevLine line;
  ASSERT_TRUE(ParseNetDevLine(
      "enp0s31f6:123456789012345 1 0 0 0 0 0 0 98765432109876 2 0 0 0 0 0 0", line));
  EXPECT_EQ(line.name, "enp0s31f6");
  EXPECT_EQ(line.stats.rx_bytes, 123456789012345u);
  EXPECT_EQ(line.stats.tx_bytes, 98765432109876u);
}

TEST(ProcNetDev, RejectsShortLinesAndDiffsCounters) {
  NetDevLine line;
  EXPECT_FALSE(ParseNetDevLine("  lo: 1 2 3", line));
  EXPECT_FALSE(ParseNetDevLine("", line));
  NetDevStats before{.rx_bytes = 100, .tx_bytes = 50};
  NetDevStats now{.rx_bytes = 150, .tx_bytes = 10};
  NetDevStats d = now - before;
  EXPECT_EQ(d.rx_bytes, 50u);
  EXPECT_EQ(d.tx_bytes, 0u);
}

TEST(ProcLoadAvg, ParsesAllFields) {
  LoadAvg load;
  ASSERT_TRUE(ParseLoadAvg("0.02 0.06 12.50 1/89 10783\n", load));
  EXPECT_DOUBLE_EQ(load.load1, 0.02);
  EXPECT_DOUBLE_EQ(load.load5, 0.06);
  EXPECT_DOUBLE_EQ(load.load15, 12.5);
  EXPECT_EQ(load.runnable, 1u);
  EXPECT_EQ(load.scheduling_entities, 89u);
  EXPECT_EQ(load.last_pid, 10783u);
  EXPECT_FALSE(ParseLoadAvg("", load));
  EXPECT_FALSE(ParseLoadAvg("0,02 0,06 0,03 1/89 1\n", load));  // never locale-dependent
}

TEST(ProcUptime, ParsesBothFields) {
  Uptime up;
  ASSERT_TRUE(ParseUptime("347.84 644.83\n", up));
  EXPECT_DOUBLE_EQ(up.uptime_seconds, 347.84);
  EXPECT_DOUBLE_EQ(up.idle_seconds, 644.83);
  EXPECT_FALSE(ParseUptime("abc\n", up));
}

TEST(ProcPressure, ParsesSomeAndFull) {
  Pressure p;
  ASSERT_TRUE(
      ParsePressure("some avg10=2.23 avg60=0.69 avg300=0.57 total=4684082\n"
                    "full avg10=0.00 avg60=0.01 avg300=0.00 total=17\n",
                    p));
  ASSERT_TRUE(p.has_some);
  ASSERT_TRUE(p.has_full);
  EXPECT_DOUBLE_EQ(p.some.avg10, 2.23);
  EXPECT_EQ(p.some.total_us, 4684082u);
  EXPECT_DOUBLE_EQ(p.full.avg60, 0.01);
  EXPECT_EQ(p.full.total_us, 17u);
}

TEST(ProcPressure, CpuBefore513HasOnlySomeAndIrqOnlyFull) {
  Pressure cpu;
  ASSERT_TRUE(ParsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", cpu));
  EXPECT_TRUE(cpu.has_some);
  EXPECT_FALSE(cpu.has_full);
  Pressure irq;
  ASSERT_TRUE(ParsePressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=9\n", irq));
  EXPECT_FALSE(irq.has_some);
  EXPECT_EQ(irq.full.total_us, 9u);
  Pressure bad;
  EXPECT_FALSE(ParsePressure("some avg10=0.00\n", bad));
  EXPECT_FALSE(ParsePressure("", bad));
}

TEST(ProcMountinfo, ParsesOptionalFieldsAndEscapes) {
  MountinfoLine m;
  ASSERT_TRUE(ParseMountinfoLine(
      "36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:7 - ext3 /dev/root "
      "rw,errors=continue",
      m));
  EXPECT_EQ(m.mount_id, 36u);
  EXPECT_EQ(m.parent_id, 35u);
  EXPECT_EQ(m.major, 98u);
  EXPECT_EQ(m.minor, 0u);
  EXPECT_EQ(m.root, "/mnt1");
  EXPECT_EQ(m.mount_point, "/mnt\\0402");
  EXPECT_EQ(UnescapeMountField(m.mount_point), "/mnt 2");
  EXPECT_EQ(m.fstype, "ext3");
  EXPECT_EQ(m.source, "/dev/root");
  EXPECT_EQ(m.super_options, "rw,errors=continue");
}

TEST(ProcMountinfo, NoOptionalFields) {
  MountinfoLine m;
  ASSERT_TRUE(ParseMountinfoLine("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard", m));
  EXPECT_EQ(m.mount_point, "/");
  EXPECT_EQ(m.fstype, "ext4");
  EXPECT_EQ(m.source, "/dev/vda");
}

TEST(ProcMountinfo, RejectsTruncatedLines) {
  MountinfoLine m;
  EXPECT_FALSE(ParseMountinfoLine("", m));
  EXPECT_FALSE(ParseMountinfoLine("27 1 254:0 / / rw,relatime", m));
  EXPECT_FALSE(ParseMountinfoLine("27 1 2540 / / rw - ext4 /dev/vda rw", m));
  EXPECT_FALSE(ParseMountinfoLine("27 1 254:0 / / rw -", m));
}

TEST(ProcMountinfo, UnescapeHandlesEveryKernelEscapeAndLeavesOthers) {
  EXPECT_EQ(UnescapeMountField("a\\040b\\011c\\012d\\134e"), "a b\tc\nd\\e");
  EXPECT_EQ(UnescapeMountField("\\"), "\\");
  EXPECT_EQ(UnescapeMountField("x\\04"), "x\\04");
  EXPECT_EQ(UnescapeMountField("x\\999"), "x\\999");
}

TEST(Text, LinesAndFields) {
  std::string_view text = "a b\n\n  c\td";
  EXPECT_EQ(NextLine(text), "a b");
  EXPECT_EQ(NextLine(text), "");
  std::string_view line = NextLine(text);
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(NextField(line), "c");
  EXPECT_EQ(NextField(line), "d");
  EXPECT_EQ(NextField(line), "");
  std::uint64_t v = 0;
  EXPECT_FALSE(ParseU64("", v));
  EXPECT_FALSE(ParseU64("12x", v));
  EXPECT_FALSE(ParseU64("99999999999999999999999", v));
  EXPECT_TRUE(ParseU64("18446744073709551615", v));
  EXPECT_EQ(CounterDelta(5, 7), 0u);
}

TEST(Text, NextU64AcceptsWhatParseU64OfTheNextFieldAccepts) {
  std::string_view text = "  0 18446744073709551615\t42";
  std::uint64_t v = 1;
  ASSERT_TRUE(NextU64(text, v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(NextU64(text, v));
  EXPECT_EQ(v, 18446744073709551615u);
  ASSERT_TRUE(NextU64(text, v));
  EXPECT_EQ(v, 42u);
  EXPECT_TRUE(text.empty());
  EXPECT_FALSE(NextU64(text, v));  // no field left

  for (std::string_view bad :
       {"18446744073709551616", "99999999999999999999999", "12x", "-1", "+1", "x", "", "   "}) {
    std::string_view rest = bad;
    std::uint64_t out = 7;
    EXPECT_FALSE(NextU64(rest, out)) << bad;
    EXPECT_EQ(out, 7u) << bad;
  }
}

TEST(ProcPressure, TotalsOnlyLeavesTheAveragesOut) {
  Pressure p;
  ASSERT_TRUE(
      ParsePressureTotals("some avg10=2.23 avg60=0.69 avg300=0.57 total=4684082\n"
                          "full avg10=0.00 avg60=0.01 avg300=0.00 total=17\n",
                          p));
  ASSERT_TRUE(p.has_some);
  ASSERT_TRUE(p.has_full);
  EXPECT_EQ(p.some.total_us, 4684082u);
  EXPECT_EQ(p.full.total_us, 17u);
  EXPECT_EQ(p.some.avg10, 0);
  Pressure bad;
  EXPECT_FALSE(ParsePressureTotals("some avg10=0.00\n", bad));
}

TEST(ProcNetDev, SplitThenParseIsParseNetDevLine) {
  const std::string_view text =
      "  eth0: 75126004    1453    1    2    3     4          5         6"
      "     61639     799    7    8    9    10      11         12";
  NetDevLine whole;
  ASSERT_TRUE(ParseNetDevLine(text, whole));
  NetDevLine split;
  std::string_view counters;
  ASSERT_TRUE(SplitNetDevLine(text, split, counters));
  EXPECT_EQ(split.name, "eth0");
  EXPECT_EQ(split.stats, NetDevStats{});
  ASSERT_TRUE(ParseNetDevCounters(counters, split));
  EXPECT_EQ(split.stats, whole.stats);

  // A line that splits but whose counters are malformed.
  ASSERT_TRUE(SplitNetDevLine("  lo: 1 2 3", split, counters));
  EXPECT_EQ(split.name, "lo");
  EXPECT_FALSE(ParseNetDevCounters(counters, split));
  EXPECT_FALSE(SplitNetDevLine(" face |bytes    packets errs", split, counters));
}

}  // namespace
}  // namespace metricsd::procfs
