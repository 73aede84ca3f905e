#include "agent/process_metrics.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.h"

namespace metricsd {
namespace {

std::optional<double> Value(const std::vector<MetricFamily>& families, std::string_view name) {
  for (const MetricFamily& family : families) {
    if (family.name == name && !family.samples.empty()) {
      return family.samples.front().value;
    }
  }
  return std::nullopt;
}

TEST(ProcessMetrics, CpuAndMemoryPerRequestOpenFdsAsOfTheLastSample) {
  ProcessMetrics metrics;
  std::vector<MetricFamily> before;
  metrics.Append(1, before);
  EXPECT_TRUE(Value(before, "process_cpu_seconds_total").has_value());
  EXPECT_GT(Value(before, "process_resident_memory_bytes").value_or(0), 0);
  EXPECT_FALSE(Value(before, "process_open_fds").has_value());  // not sampled yet

  metrics.SampleOpenFds();
  std::vector<MetricFamily> first;
  metrics.Append(2, first);
  const double open = Value(first, "process_open_fds").value_or(-1);
  EXPECT_GT(open, 2);  // stdin, stdout, stderr at least

  std::vector<UniqueFd> more;
  for (int i = 0; i < 3; ++i) {
    more.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  std::vector<MetricFamily> unchanged;
  metrics.Append(3, unchanged);
  EXPECT_EQ(Value(unchanged, "process_open_fds"), open);  // until the next sample
  metrics.SampleOpenFds();
  std::vector<MetricFamily> after;
  metrics.Append(4, after);
  EXPECT_EQ(Value(after, "process_open_fds"), open + 3);
}

// VmRSS of /proc/self/status, in bytes: another reading of the same counter.
double StatusRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      return std::stod(line.substr(6)) * 1024;
    }
  }
  return -1;
}

TEST(ProcessMetrics, CpuFollowsWorkAndMemoryMatchesTheKernelsOtherReport) {
  ProcessMetrics metrics;
  std::vector<MetricFamily> before;
  metrics.Append(1, before);
  // About 50 ms of CPU on this thread.
  timespec start{};
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
  volatile std::uint64_t sink = 0;
  do {
    for (int i = 0; i < 100000; ++i) {
      sink = sink + static_cast<std::uint64_t>(i);
    }
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 50000000L);
  std::vector<MetricFamily> after;
  metrics.Append(2, after);
  const double spent = Value(after, "process_cpu_seconds_total").value_or(0) -
                       Value(before, "process_cpu_seconds_total").value_or(0);
  EXPECT_GE(spent, 0.05);
  EXPECT_LT(spent, 5.0);
  const double rss = Value(after, "process_resident_memory_bytes").value_or(0);
  EXPECT_NEAR(rss, StatusRssBytes(), 2 * 1024 * 1024);
}

}  // namespace
}  // namespace metricsd
