// Prometheus's own linter on what metricsd serves: `promtool check metrics` on /metrics of the
// real binary on this host, with a shipper so that its self-metrics are there too. Any
// complaint not listed in kAccepted fails. Skipped where promtool is not installed (CI
// installs it).
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string>

#include "support/process.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::HttpGet;
using testing::TempDir;
using testing::WaitFor;

// Complaints kept on purpose, each with its reason.
constexpr const char* kAccepted[] = {
    // A count of CPUs, not the _count series of a summary or histogram; the name is part of
    // the metric set metricsd was specified with, and dashboards use it.
    "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix",
};

TEST(PromtoolLint, MetricsPassCheckMetrics) {
  const std::string promtool = testing::FindBinary("promtool");
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool is not installed";
  }
  TempDir dir;
  const int port = testing::FreePort();
  // The shipper's receiver refuses connections: its retry and queue metrics exist anyway.
  const std::string config =
      dir.Write("c.json", R"({"server":{"host":"127.0.0.1","port":)" + std::to_string(port) +
                              R"(},"collector":{"interval_seconds":1},"data_dir":")" + dir.path() +
                              R"(/data","shippers":[{"name":"lint","type":"prometheus_remote_write",
                    "endpoint":"http://127.0.0.1:1/api/v1/write"}]})");
  ChildProcess daemon(METRICSD_BINARY, {"-config", config}, testing::MetricsdTestEnv(), dir.path());
  ASSERT_TRUE(WaitFor([&] { return HttpGet("127.0.0.1", port, "/health").status == 200; }, 10s))
      << daemon.Stderr();
  // After the first collection, so that every collector's families are in.
  ASSERT_TRUE(WaitFor(
      [&] {
        return HttpGet("127.0.0.1", port, "/metrics").body.find("system_cpu_count") !=
               std::string::npos;
      },
      10s))
      << daemon.Stderr();
  const testing::HttpReply metrics = HttpGet("127.0.0.1", port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const std::string file = dir.Write("metrics.txt", metrics.body);

  ChildProcess check("/bin/sh", {"-c", "exec \"$0\" check metrics < \"$1\"", promtool, file});
  const std::optional<int> status = check.Wait(30s);
  ASSERT_TRUE(status.has_value()) << "promtool did not finish";
  // 0: clean; 3: lint complaints only (anything else, e.g. a parse error, fails).
  EXPECT_TRUE(*status == 0 || *status == 3) << *status << ": " << check.Stderr();
  std::istringstream complaints(check.Stdout() + check.Stderr());
  for (std::string line; std::getline(complaints, line);) {
    if (line.empty() ||
        std::find(std::begin(kAccepted), std::end(kAccepted), line) != std::end(kAccepted)) {
      continue;
    }
    ADD_FAILURE() << "promtool check metrics: " << line;
  }
}

}  // namespace
}  // namespace metricsd
