#include "agent/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>
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

}  // namespace
}  // namespace metricsd
