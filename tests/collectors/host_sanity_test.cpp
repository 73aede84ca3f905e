// Invariants on the real host (/proc, /sys, /): no exact values, only what must hold
// anywhere (percentages within 0..100, totals at least the used part, no NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "collectors/cpu_collector.h"
#include "collectors/diskio_collector.h"
#include "collectors/filesystem_collector.h"
#include "collectors/host_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/network_collector.h"
#include "collectors/pressure_collector.h"
#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::Value;

std::vector<std::unique_ptr<Collector>> AllCollectors(const HostPaths& host) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<CpuCollector>(host));
  all.push_back(std::make_unique<MemoryCollector>(host));
  all.push_back(std::make_unique<HostCollector>(host));
  all.push_back(std::make_unique<PressureCollector>(host));
  all.push_back(std::make_unique<DiskIoCollector>(host, config::DiskIoOptions{}));
  all.push_back(std::make_unique<NetworkCollector>(host, config::NetworkOptions{}));
  all.push_back(std::make_unique<FilesystemCollector>(host, config::FilesystemOptions{}));
  return all;
}

TEST(HostSanity, EveryCollectorHoldsItsInvariants) {
  auto collectors = AllCollectors(HostPaths{});
  for (int round = 0; round < 2; ++round) {
    for (auto& collector : collectors) {
      CollectResult r = collector->Collect(Ctx());
      if (collector->name() == "pressure" && r.status == CollectStatus::kNotApplicable) {
        continue;
      }
      ASSERT_EQ(r.status, CollectStatus::kOk) << collector->name() << ": " << r.message;
      for (const MetricFamily& family : r.families) {
        EXPECT_TRUE(IsValidMetricName(family.name));
        EXPECT_FALSE(family.help.empty()) << family.name;
        for (const Sample& s : family.samples) {
          EXPECT_TRUE(std::isfinite(s.value)) << family.name;
          EXPECT_GE(s.value, 0) << family.name;
          if (family.name.ends_with("_percent")) {
            EXPECT_LE(s.value, 100.0) << family.name;
          }
          for (std::size_t i = 1; i < s.labels.size(); ++i) {
            EXPECT_LT(s.labels[i - 1].name, s.labels[i].name) << family.name;
          }
        }
      }
      if (collector->name() == "memory") {
        EXPECT_GT(*Value(r, "system_memory_total_bytes"), 0);
        EXPECT_LE(*Value(r, "system_memory_used_bytes"), *Value(r, "system_memory_total_bytes"));
        EXPECT_LE(*Value(r, "system_swap_used_bytes"), *Value(r, "system_swap_total_bytes"));
      }
      if (collector->name() == "cpu") {
        EXPECT_GE(*Value(r, "system_cpu_count"), 1);
        // The first tick already has every core (since-boot averages).
        EXPECT_EQ(static_cast<double>(testing_util::SampleCount(r, "system_cpu_usage_percent")),
                  *Value(r, "system_cpu_count"));
        const std::optional<double> total = Value(r, "system_cpu_usage_total_percent");
        ASSERT_TRUE(total.has_value());
        EXPECT_GE(*total, 0);
        EXPECT_LE(*total, 100);
      }
      if (collector->name() == "filesystem") {
        // A container whose only filesystems are excluded ones reports none: nothing to check.
        const MetricFamily* total = testing_util::FindFamily(r, "system_disk_total_bytes");
        for (const Sample& s : total == nullptr ? std::vector<Sample>{} : total->samples) {
          EXPECT_GE(s.value, *Value(r, "system_disk_used_bytes", s.labels));
        }
      }
    }
  }
}

}  // namespace
}  // namespace metricsd
