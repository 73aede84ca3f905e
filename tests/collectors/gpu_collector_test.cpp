#include "collectors/gpu_collector.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_nvml_control.h"

namespace metricsd {
namespace {

using metricsd::testing::FakeNvml;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::int64_t kWallMs = 1'700'000'000'000;

// GPU 0 has every value; GPU 1 (passively cooled) has no fan, no ECC, no processes, no PCIe
// counters and no clock reasons.
constexpr const char* kTwoGpus = R"(count=2
gpu0.name=NVIDIA H100 80GB HBM3
gpu0.uuid=GPU-aaaa
gpu0.util_gpu=87
gpu0.util_mem=41
gpu0.mem_total=85520809984
gpu0.mem_free=20000000000
gpu0.mem_used=65000000000
gpu0.mem_reserved=520809984
gpu0.temp=64
gpu0.power_mw=412345
gpu0.power_limit_mw=700000
gpu0.energy_mj=123456789
gpu0.fan=55
gpu0.clock_sm=1980
gpu0.clock_mem=2619
gpu0.ecc_corrected=7
gpu0.ecc_uncorrected=1
gpu0.pcie_tx=4
gpu0.pcie_rx=8
gpu0.throttle=0x44
gpu0.procs=1234:1048576
gpu0.gprocs=99:4096
gpu1.name=Tesla T4
gpu1.uuid=GPU-bbbb
gpu1.util_gpu=3
gpu1.util_mem=0
gpu1.mem_total=16000000000
gpu1.mem_free=15000000000
gpu1.mem_used=900000000
gpu1.mem_reserved=100000000
gpu1.temp=35
gpu1.power_mw=27000
gpu1.power_limit_mw=70000
gpu1.energy_mj=5000
gpu1.clock_sm=300
gpu1.clock_mem=405)";

// One line per sample: name{labels} value, in emission order.
std::vector<std::string> Dump(const CollectResult& result) {
  std::vector<std::string> lines;
  for (const MetricFamily& family : result.families) {
    for (const Sample& sample : family.samples) {
      std::string line = sample.name + "{";
      for (std::size_t i = 0; i < sample.labels.size(); ++i) {
        line += (i > 0 ? "," : "") + sample.labels[i].name + "=\"" + sample.labels[i].value + "\"";
      }
      char value[64];
      std::snprintf(value, sizeof(value), "%.15g", sample.value);
      lines.push_back(line + "} " + value);
    }
  }
  return lines;
}

std::vector<std::string> Only(const std::vector<std::string>& lines, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& line : lines) {
    if (line.rfind(prefix, 0) == 0) {
      out.push_back(line);
    }
  }
  return out;
}

class GpuCollectorTest : public ::testing::Test {
 protected:
  CollectContext Tick(seconds since_start = seconds(0)) {
    return CollectContext{start_ + since_start, kWallMs};
  }
  GpuCollector MakeCollector(const std::string& path) {
    return GpuCollector(config::GpuOptions{.nvml_library = path});
  }

  std::chrono::steady_clock::time_point start_{std::chrono::hours(1000)};
};

TEST_F(GpuCollectorTest, TwoGpusExactMetricsLabelsAndOmissions) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  GpuCollector collector = MakeCollector(fake.path());
  CollectResult result = collector.Collect(Tick());
  ASSERT_EQ(result.status, CollectStatus::kOk) << result.message;

  const std::string g0 = R"(gpu="0",name="NVIDIA H100 80GB HBM3",uuid="GPU-aaaa")";
  const std::string g1 = R"(gpu="1",name="Tesla T4",uuid="GPU-bbbb")";
  std::vector<std::string> expected = {
      "system_gpu_count{} 2",
      "system_gpu_up{" + g0 + "} 1",
      "system_gpu_up{" + g1 + "} 1",
      "system_gpu_utilization_percent{" + g0 + "} 87",
      "system_gpu_utilization_percent{" + g1 + "} 3",
      "system_gpu_memory_utilization_percent{" + g0 + "} 41",
      "system_gpu_memory_utilization_percent{" + g1 + "} 0",
      "system_gpu_memory_total_bytes{" + g0 + "} 85520809984",
      "system_gpu_memory_total_bytes{" + g1 + "} 16000000000",
      "system_gpu_memory_used_bytes{" + g0 + "} 65000000000",
      "system_gpu_memory_used_bytes{" + g1 + "} 900000000",
      "system_gpu_memory_free_bytes{" + g0 + "} 20000000000",
      "system_gpu_memory_free_bytes{" + g1 + "} 15000000000",
      "system_gpu_memory_reserved_bytes{" + g0 + "} 520809984",
      "system_gpu_memory_reserved_bytes{" + g1 + "} 100000000",
      "system_gpu_temperature_celsius{" + g0 + "} 64",
      "system_gpu_temperature_celsius{" + g1 + "} 35",
      "system_gpu_power_usage_milliwatts{" + g0 + "} 412345",
      "system_gpu_power_usage_milliwatts{" + g1 + "} 27000",
      "system_gpu_power_limit_milliwatts{" + g0 + "} 700000",
      "system_gpu_power_limit_milliwatts{" + g1 + "} 70000",
      "system_gpu_energy_joules_total{" + g0 + "} 123456.789",
      "system_gpu_energy_joules_total{" + g1 + "} 5",
      "system_gpu_fan_speed_percent{" + g0 + "} 55",
      "system_gpu_clock_sm_mhz{" + g0 + "} 1980",
      "system_gpu_clock_sm_mhz{" + g1 + "} 300",
      "system_gpu_clock_memory_mhz{" + g0 + "} 2619",
      "system_gpu_clock_memory_mhz{" + g1 + "} 405",
      R"(system_gpu_ecc_errors_total{gpu="0",name="NVIDIA H100 80GB HBM3",type="corrected",uuid="GPU-aaaa"} 7)",
      R"(system_gpu_ecc_errors_total{gpu="0",name="NVIDIA H100 80GB HBM3",type="uncorrected",uuid="GPU-aaaa"} 1)",
      "system_gpu_pcie_transmit_bytes_per_second{" + g0 + "} 4096",
      "system_gpu_pcie_receive_bytes_per_second{" + g0 + "} 8192",
  };
  // Labels stay sorted by name: gpu, name, reason, uuid.
  const std::string n0 = R"(gpu="0",name="NVIDIA H100 80GB HBM3",)";
  for (const char* reason :
       {"gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
        "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown",
        "display_clock_setting"}) {
    const bool active = std::string(reason) == "sw_power_cap" ||
                        std::string(reason) == "hw_thermal_slowdown";  // 0x44
    expected.push_back("system_gpu_throttle_active{" + n0 + "reason=\"" + reason +
                       "\",uuid=\"GPU-aaaa\"} " + (active ? "1" : "0"));
  }
  expected.push_back("system_gpu_process_memory_used_bytes{" + n0 +
                     R"(pid="1234",type="compute",uuid="GPU-aaaa"} 1048576)");
  expected.push_back("system_gpu_process_memory_used_bytes{" + n0 +
                     R"(pid="99",type="graphics",uuid="GPU-aaaa"} 4096)");
  EXPECT_EQ(Dump(result), expected);

  for (const MetricFamily& family : result.families) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_TRUE(IsValidMetricName(family.name)) << family.name;
    for (const Sample& sample : family.samples) {
      EXPECT_EQ(sample.timestamp_ms, kWallMs);
    }
    const bool counter = family.name.ends_with("_total");
    EXPECT_EQ(family.type, counter ? MetricType::kCounter : MetricType::kGauge) << family.name;
  }
}

TEST_F(GpuCollectorTest, StaticFactsAreLookedUpOnceAndUnsupportedQueriesAreNotRepeated) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  fake.Set("gpu1.power_mw=err:3");
  GpuCollector collector = MakeCollector(fake.path());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(collector.Collect(Tick(seconds(i * 60))).status, CollectStatus::kOk);
  }
  EXPECT_EQ(fake.Calls("nvmlInit"), 1U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetHandleByIndex"), 2U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetName"), 2U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetUUID"), 2U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetCount"), 6U);  // once to open, once per tick
  // GPU 0 each tick, GPU 1 once: NOT_SUPPORTED is remembered.
  EXPECT_EQ(fake.Calls("nvmlDeviceGetPowerUsage"), 6U);
  // PCIe is NOT_SUPPORTED on GPU 1 too: both directions on each of 5 ticks for GPU 0, and
  // both directions once for GPU 1.
  EXPECT_EQ(fake.Calls("nvmlDeviceGetPcieThroughput"), 12U);
}

TEST_F(GpuCollectorTest, OtherErrorsOmitTheValueButAskAgainNextTick) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  fake.Set("gpu0.power_mw=err:999");
  GpuCollector collector = MakeCollector(fake.path());
  auto first = Dump(collector.Collect(Tick()));
  EXPECT_THAT(Only(first, "system_gpu_power_usage_milliwatts"),
              ElementsAre(HasSubstr("gpu=\"1\"")));
  fake.Set("gpu0.power_mw=1000");
  auto second = Dump(collector.Collect(Tick(seconds(60))));
  EXPECT_THAT(Only(second, "system_gpu_power_usage_milliwatts"),
              ElementsAre(HasSubstr("gpu=\"0\""), HasSubstr("gpu=\"1\"")));
}

TEST_F(GpuCollectorTest, LostGpuIsReportedDownAndComesBack) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  GpuCollector collector = MakeCollector(fake.path());
  ASSERT_EQ(collector.Collect(Tick()).status, CollectStatus::kOk);

  fake.Set("gpu1.lost=1");
  CollectResult lost = collector.Collect(Tick(seconds(60)));
  ASSERT_EQ(lost.status, CollectStatus::kOk);
  auto lines = Dump(lost);
  EXPECT_THAT(Only(lines, "system_gpu_up"),
              ElementsAre(HasSubstr("gpu=\"0\""), HasSubstr("gpu=\"1\"")));
  EXPECT_THAT(Only(lines, "system_gpu_up{gpu=\"1\""), ElementsAre(::testing::EndsWith("} 0")));
  EXPECT_THAT(Only(lines, "system_gpu_up{gpu=\"0\""), ElementsAre(::testing::EndsWith("} 1")));
  // Nothing else is reported for the lost GPU; GPU 0 is untouched.
  for (const auto& line : lines) {
    if (line.rfind("system_gpu_up", 0) != 0) {
      EXPECT_THAT(line, ::testing::Not(HasSubstr("gpu=\"1\""))) << line;
    }
  }
  EXPECT_EQ(Only(lines, "system_gpu_temperature_celsius").size(), 1U);

  fake.Set("gpu1.lost=0");
  auto back = Dump(collector.Collect(Tick(seconds(120))));
  EXPECT_THAT(Only(back, "system_gpu_up{gpu=\"1\""), ElementsAre(::testing::EndsWith("} 1")));
  EXPECT_EQ(Only(back, "system_gpu_temperature_celsius").size(), 2U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetName"), 2U);  // no new lookup: the handle stayed valid
}

TEST_F(GpuCollectorTest, GpuWithoutHandleIsReportedDownAndRetried) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  fake.Set("gpu1.lost=1");
  GpuCollector collector = MakeCollector(fake.path());
  auto lines = Dump(collector.Collect(Tick()));
  EXPECT_THAT(Only(lines, "system_gpu_up{gpu=\"1\""),
              ElementsAre(R"(system_gpu_up{gpu="1",name="",uuid=""} 0)"));
  fake.Set("gpu1.lost=0");
  lines = Dump(collector.Collect(Tick(seconds(60))));
  EXPECT_THAT(Only(lines, "system_gpu_up{gpu=\"1\""),
              ElementsAre(R"(system_gpu_up{gpu="1",name="Tesla T4",uuid="GPU-bbbb"} 1)"));
}

TEST_F(GpuCollectorTest, ScriptFileDrivesAGpuThatDisappearsMidRun) {
  FakeNvml fake;
  const std::filesystem::path script =
      std::filesystem::temp_directory_path() /
      ("metricsd_fake_nvml_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(script);
    out << kTwoGpus << "\ngpu1.lost_after_ticks=3\n";
  }
  ::setenv("METRICSD_FAKE_NVML_SCRIPT", script.c_str(), 1);
  std::vector<std::string> up_gpu1;
  {
    GpuCollector collector = MakeCollector(fake.path());
    for (int i = 0; i < 4; ++i) {
      CollectResult result = collector.Collect(Tick(seconds(i * 60)));
      ASSERT_EQ(result.status, CollectStatus::kOk);
      auto lines = Only(Dump(result), "system_gpu_up{gpu=\"1\"");
      ASSERT_EQ(lines.size(), 1U);
      up_gpu1.push_back(lines[0].substr(lines[0].size() - 1));
    }
  }
  ::unsetenv("METRICSD_FAKE_NVML_SCRIPT");
  std::filesystem::remove(script);
  // Count calls: 1 at open, then ticks 2, 3, 4, 5; lost once more than 3 were made.
  EXPECT_EQ(up_gpu1, (std::vector<std::string>{"1", "1", "0", "0"}));
}

TEST_F(GpuCollectorTest, NvmlFailureReleasesTheLibraryAndReloadsWithBackoff) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  GpuCollector collector = MakeCollector(fake.path());
  ASSERT_EQ(collector.Collect(Tick()).status, CollectStatus::kOk);
  EXPECT_EQ(fake.OpenInits(), 1);

  fake.Set("count_error=1");  // NVML_ERROR_UNINITIALIZED
  CollectResult down = collector.Collect(Tick(seconds(60)));
  EXPECT_EQ(down.status, CollectStatus::kTransient);
  EXPECT_THAT(down.message, HasSubstr("Uninitialized"));
  EXPECT_EQ(fake.OpenInits(), 0);  // shut down and closed
  EXPECT_EQ(fake.Calls("nvmlInit"), 1U);

  // Still failing: reload attempts at +10 s, then +20 s, then +40 s after that.
  EXPECT_EQ(collector.Collect(Tick(seconds(65))).status, CollectStatus::kTransient);
  EXPECT_EQ(fake.Calls("nvmlInit"), 1U);
  EXPECT_EQ(collector.Collect(Tick(seconds(70))).status, CollectStatus::kTransient);
  EXPECT_EQ(fake.Calls("nvmlInit"), 2U);
  EXPECT_EQ(fake.OpenInits(), 0);
  EXPECT_EQ(collector.Collect(Tick(seconds(85))).status, CollectStatus::kTransient);
  EXPECT_EQ(fake.Calls("nvmlInit"), 2U);
  EXPECT_EQ(collector.Collect(Tick(seconds(90))).status, CollectStatus::kTransient);
  EXPECT_EQ(fake.Calls("nvmlInit"), 3U);

  fake.Set("count_error=0");
  EXPECT_EQ(collector.Collect(Tick(seconds(120))).status, CollectStatus::kTransient);
  EXPECT_EQ(fake.Calls("nvmlInit"), 3U);
  CollectResult back = collector.Collect(Tick(seconds(130)));
  ASSERT_EQ(back.status, CollectStatus::kOk) << back.message;
  EXPECT_EQ(fake.Calls("nvmlInit"), 4U);
  EXPECT_EQ(fake.OpenInits(), 1);
  EXPECT_EQ(Only(Dump(back), "system_gpu_up").size(), 2U);
  EXPECT_EQ(fake.Calls("nvmlDeviceGetName"), 4U);  // rediscovered after the reload
}

TEST_F(GpuCollectorTest, InitFailureIsNotApplicableAndNotRetried) {
  FakeNvml fake;
  fake.Set("init=9");
  GpuCollector collector = MakeCollector(fake.path());
  CollectResult result = collector.Collect(Tick());
  EXPECT_EQ(result.status, CollectStatus::kNotApplicable);
  EXPECT_THAT(result.message, HasSubstr("Driver Not Loaded"));
  EXPECT_THAT(result.families, IsEmpty());
  EXPECT_EQ(collector.Collect(Tick(seconds(600))).status, CollectStatus::kNotApplicable);
  EXPECT_EQ(fake.Calls("nvmlInit"), 1U);
}

TEST_F(GpuCollectorTest, NoGpuIsNotApplicableAndReleasesNvml) {
  FakeNvml fake;
  fake.Set("count=0");
  GpuCollector collector = MakeCollector(fake.path());
  CollectResult result = collector.Collect(Tick());
  EXPECT_EQ(result.status, CollectStatus::kNotApplicable);
  EXPECT_THAT(result.message, HasSubstr("no GPU"));
  EXPECT_EQ(fake.OpenInits(), 0);
}

TEST_F(GpuCollectorTest, MissingRequiredSymbolIsNotApplicable) {
  FakeNvml fake(METRICSD_FAKE_NVML_NO_COUNT_PATH);
  GpuCollector collector = MakeCollector(fake.path());
  CollectResult result = collector.Collect(Tick());
  EXPECT_EQ(result.status, CollectStatus::kNotApplicable);
  EXPECT_THAT(result.message, HasSubstr("nvmlDeviceGetCount"));
}

TEST_F(GpuCollectorTest, OldDriverWithoutOptionalSymbolsGivesTheSeedMetrics) {
  FakeNvml fake(METRICSD_FAKE_NVML_MINIMAL_PATH);
  fake.Set(kTwoGpus);
  GpuCollector collector = MakeCollector(fake.path());
  CollectResult result = collector.Collect(Tick());
  ASSERT_EQ(result.status, CollectStatus::kOk) << result.message;
  std::vector<std::string> names;
  for (const MetricFamily& family : result.families) {
    names.push_back(family.name);
  }
  EXPECT_THAT(names,
              ElementsAre("system_gpu_count", "system_gpu_up", "system_gpu_utilization_percent",
                          "system_gpu_memory_utilization_percent", "system_gpu_memory_total_bytes",
                          "system_gpu_memory_used_bytes", "system_gpu_memory_free_bytes",
                          "system_gpu_temperature_celsius", "system_gpu_power_usage_milliwatts",
                          "system_gpu_fan_speed_percent", "system_gpu_clock_sm_mhz",
                          "system_gpu_clock_memory_mhz", "system_gpu_throttle_active"));
  // The v1 memory query counts the driver's reservation as used.
  EXPECT_THAT(Only(Dump(result), "system_gpu_memory_used_bytes{gpu=\"0\""),
              ElementsAre(::testing::EndsWith("} 65520809984")));
}

TEST_F(GpuCollectorTest, DestroyingTheCollectorShutsNvmlDown) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  {
    GpuCollector collector = MakeCollector(fake.path());
    ASSERT_EQ(collector.Collect(Tick()).status, CollectStatus::kOk);
    EXPECT_EQ(fake.OpenInits(), 1);
  }
  EXPECT_EQ(fake.OpenInits(), 0);
  EXPECT_EQ(fake.Calls("nvmlShutdown"), 1U);
}

TEST_F(GpuCollectorTest, NothingHappensBeforeTheFirstTick) {
  FakeNvml fake;
  fake.Set(kTwoGpus);
  GpuCollector collector = MakeCollector(fake.path());
  EXPECT_EQ(collector.name(), "gpu");
  EXPECT_EQ(fake.Calls("nvmlInit"), 0U);
}

// On this (GPU-less) machine the default library names find nothing: enable_gpu: true must be
// a quiet, permanent "not applicable", not an error on every tick.
TEST_F(GpuCollectorTest, DefaultLibraryOnAHostWithoutNvmlIsNotApplicable) {
  if (void* real = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(real);
    GTEST_SKIP() << "a real NVML is installed here";
  }
  GpuCollector collector(config::GpuOptions{});
  CollectResult first;
  EXPECT_NO_THROW(first = collector.Collect(Tick()));
  EXPECT_EQ(first.status, CollectStatus::kNotApplicable);
  EXPECT_THAT(first.message, HasSubstr("libnvidia-ml.so.1"));
  EXPECT_THAT(first.families, IsEmpty());
  for (int i = 1; i < 3; ++i) {
    EXPECT_EQ(collector.Collect(Tick(seconds(60 * i))).status, CollectStatus::kNotApplicable);
  }
}

}  // namespace
}  // namespace metricsd
