// GPU metrics through the real binary: the fake NVML library loaded by its configured
// path reaches /metrics, and enable_gpu on a host without NVML stays healthy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/process.h"

namespace metricsd {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::TempDir;
using testing::WaitFor;

std::map<std::string, std::optional<std::string>> Env(const std::string& script) {
  auto env = testing::MetricsdTestEnv();
  if (!script.empty()) env["METRICSD_FAKE_NVML_SCRIPT"] = script;
  return env;
}

std::string Config(int port, const std::string& library) {
  return R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
         R"(},"collector":{"interval_seconds":1,"enable_cpu":false,"enable_memory":false,
         "enable_disk":false,"enable_network":false,"enable_gpu":true,
         "gpu":{"nvml_library":")" +
         library + R"("}}})";
}

TEST(GpuEndToEnd, FakeNvmlReachesMetrics) {
  TempDir dir;
  std::string script = dir.Write("nvml.script",
                                 "count=2\n"
                                 "gpu0.name=Tesla T4\ngpu0.uuid=GPU-aaaa\ngpu0.util_gpu=42\n"
                                 "gpu0.util_mem=7\ngpu0.mem_total=16000000000\n"
                                 "gpu0.mem_used=1000\ngpu0.mem_free=15999999000\ngpu0.temp=55\n"
                                 "gpu0.power_mw=70000\ngpu0.fan=30\ngpu0.clock_sm=1590\n"
                                 "gpu0.clock_mem=5000\n"
                                 "gpu1.util_gpu=3\ngpu1.temp=40\n");
  int port = testing::FreePort();
  std::string config = dir.Write("c.json", Config(port, METRICSD_FAKE_NVML_PATH));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, Env(script), dir.path());
  std::string metrics;
  ASSERT_TRUE(WaitFor(
      [&] {
        metrics = HttpGet("127.0.0.1", port, "/metrics").body;
        return metrics.find("system_gpu_count") != std::string::npos;
      },
      10s))
      << daemon.Stderr();
  EXPECT_THAT(metrics, HasSubstr("system_gpu_count 2\n"));
  EXPECT_THAT(
      metrics,
      HasSubstr(R"(system_gpu_utilization_percent{gpu="0",name="Tesla T4",uuid="GPU-aaaa"} 42)"));
  EXPECT_THAT(metrics, HasSubstr(R"(system_gpu_temperature_celsius{gpu="1")"));
  EXPECT_THAT(metrics, HasSubstr(R"(system_gpu_fan_speed_percent{gpu="0")"));
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr(R"(system_gpu_fan_speed_percent{gpu="1")")));
}

TEST(GpuEndToEnd, EnabledWithoutNvmlStaysHealthy) {
  TempDir dir;
  int port = testing::FreePort();
  std::string config = dir.Write("c.json", Config(port, dir.path() + "/no-such-libnvidia-ml.so"));
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, Env(""), dir.path());
  ASSERT_TRUE(WaitFor([&] { return HttpGet("127.0.0.1", port, "/ready").status == 200; }, 10s))
      << daemon.Stderr();
  auto health = nlohmann::json::parse(HttpGet("127.0.0.1", port, "/health").body);
  EXPECT_EQ(health["status"], "healthy");
  EXPECT_EQ(health["collectors"]["gpu"]["status"], "not_applicable");
  // Several cycles later it is still quiet: no error loop.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string m = HttpGet("127.0.0.1", port, "/metrics").body;
        return m.find("metricsd_collection_cycles_total 3") != std::string::npos;
      },
      10s));
  std::string log = daemon.Stderr();
  EXPECT_THAT(log, ::testing::Not(HasSubstr("error")));
  EXPECT_TRUE(daemon.running());
}

}  // namespace
}  // namespace metricsd
