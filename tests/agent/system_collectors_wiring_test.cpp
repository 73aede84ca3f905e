// Which host collectors collector.naming builds: metricsd's own, node_exporter's, or both.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "agent/agent.h"

namespace metricsd {
namespace {

std::vector<std::string> Names(config::MetricNaming naming) {
  config::Config config;
  config.collector.naming = naming;
  const HostPaths paths{.proc = std::string(METRICSD_FIXTURES_DIR) + "/proc",
                        .sys = std::string(METRICSD_FIXTURES_DIR) + "/sys",
                        .root = std::string(METRICSD_FIXTURES_DIR) + "/root"};
  std::vector<std::string> names;
  for (const auto& collector : BuildSystemCollectors(config, paths)) {
    names.emplace_back(collector->name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(BuildSystemCollectors, NamingChoosesTheSetOfCollectors) {
  const std::vector<std::string> native = {"cpu",    "diskio",  "filesystem", "host",
                                           "memory", "network", "pressure"};
  const std::vector<std::string> node = {"node_cpu",     "node_diskstats", "node_filesystem",
                                         "node_loadavg", "node_meminfo",   "node_netdev",
                                         "node_os",      "node_pressure",  "node_stat",
                                         "node_time",    "node_uname",     "node_vmstat"};
  EXPECT_EQ(Names(config::MetricNaming::kMetricsd), native);
  EXPECT_EQ(Names(config::MetricNaming::kNodeExporter), node);
  std::vector<std::string> both = native;
  both.insert(both.end(), node.begin(), node.end());
  std::sort(both.begin(), both.end());
  EXPECT_EQ(Names(config::MetricNaming::kBoth), both);
}

}  // namespace
}  // namespace metricsd
