#include "procfs/proc_meminfo.h"

#include <gtest/gtest.h>

namespace metricsd::procfs {
namespace {

constexpr std::uint64_t kKiB = 1024;

TEST(ProcMeminfo, ParsesModernKernel) {
  MemInfo m;
  ASSERT_TRUE(
      ParseMeminfo("MemTotal:       16000000 kB\n"
                   "MemFree:         4000000 kB\n"
                   "MemAvailable:    9000000 kB\n"
                   "Buffers:          500000 kB\n"
                   "Cached:          3000000 kB\n"
                   "SwapCached:            0 kB\n"
                   "SwapTotal:       2000000 kB\n"
                   "SwapFree:        1500000 kB\n"
                   "Shmem:            200000 kB\n"
                   "SReclaimable:     500000 kB\n"
                   "HugePages_Total:       0\n",
                   m));
  EXPECT_EQ(m.mem_total, 16000000 * kKiB);
  EXPECT_EQ(m.mem_free, 4000000 * kKiB);
  EXPECT_EQ(m.AvailableBytes(), 9000000 * kKiB);
  EXPECT_EQ(m.UsedBytes(), (16000000 - 4000000 - 500000 - 3000000 - 500000) * kKiB);
  EXPECT_EQ(m.swap_total, 2000000 * kKiB);
  EXPECT_EQ(m.SwapUsedBytes(), 500000 * kKiB);
  EXPECT_TRUE(m.has(MemInfo::kShmem));
}

TEST(ProcMeminfo, EstimatesAvailableOnKernelsWithoutIt) {
  // 3.13 and older: no MemAvailable.
  MemInfo m;
  ASSERT_TRUE(
      ParseMeminfo("MemTotal:        1000 kB\nMemFree:          100 kB\n"
                   "Buffers:           50 kB\nCached:           200 kB\n"
                   "SwapTotal:          0 kB\nSwapFree:           0 kB\n"
                   "SReclaimable:      25 kB\n",
                   m));
  EXPECT_FALSE(m.has(MemInfo::kMemAvailable));
  EXPECT_EQ(m.AvailableBytes(), 375 * kKiB);
  EXPECT_EQ(m.UsedBytes(), 625 * kKiB);
}

TEST(ProcMeminfo, NoSwapAndMissingFieldsGiveZeroNotGarbage) {
  MemInfo m;
  ASSERT_TRUE(ParseMeminfo("MemTotal:        1000 kB\nMemFree:          900 kB\n", m));
  EXPECT_FALSE(m.has(MemInfo::kSwapTotal));
  EXPECT_EQ(m.SwapUsedBytes(), 0u);
  EXPECT_EQ(m.UsedBytes(), 100 * kKiB);
}

TEST(ProcMeminfo, UsedNeverGoesNegative) {
  // Fields are sampled at different instants; their sum can exceed the total.
  MemInfo m;
  ASSERT_TRUE(
      ParseMeminfo("MemTotal: 1000 kB\nMemFree: 600 kB\nBuffers: 100 kB\n"
                   "Cached: 400 kB\nSReclaimable: 10 kB\n",
                   m));
  EXPECT_EQ(m.UsedBytes(), 0u);
  MemInfo swap;
  ASSERT_TRUE(ParseMeminfo("MemTotal: 1 kB\nSwapTotal: 10 kB\nSwapFree: 11 kB\n", swap));
  EXPECT_EQ(swap.SwapUsedBytes(), 0u);
}

TEST(ProcMeminfo, RejectsTextWithoutMemTotal) {
  MemInfo m;
  EXPECT_FALSE(ParseMeminfo("", m));
  EXPECT_FALSE(ParseMeminfo("MemFree: 10 kB\n", m));
  EXPECT_FALSE(ParseMeminfo("MemTotal: lots kB\n", m));
}

}  // namespace
}  // namespace metricsd::procfs
