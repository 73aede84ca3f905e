// Golden end-to-end test: `metricsd -once` on the committed fixture trees, diffed against
// tests/golden/once-fixtures.txt. After an intended change, rewrite the golden file with
//   UPDATE_GOLDEN=1 build/tests/e2e/e2e_test --gtest_filter='Golden.*'
// and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/process.h"

namespace metricsd {
namespace {

using namespace std::chrono_literals;

TEST(Golden, OnceOnFixtures) {
  testing::TempDir dir;
  // The fixture mount table points at paths whose real statfs would vary: leave them out.
  std::string config = dir.Write(
      "c.json",
      R"({"collector":{"filesystems":{"mountpoint_include":"^/golden-excludes-every-mount$"}}})");
  std::string fixtures = METRICSD_FIXTURES_DIR;
  auto env = testing::MetricsdTestEnv();
  env["HOST_PROC"] = fixtures + "/proc";
  env["HOST_SYS"] = fixtures + "/sys";
  env["HOST_ROOT"] = fixtures + "/root";
  testing::ChildProcess once(METRICSD_BINARY, {"-once", "-config", config}, env, dir.path());
  ASSERT_EQ(once.Wait(20s), 0) << once.Stderr();
  std::string golden_path = std::string(METRICSD_SOURCE_DIR) + "/tests/golden/once-fixtures.txt";
  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(golden_path, std::ios::binary) << once.Stdout();
    GTEST_SKIP() << "rewrote " << golden_path;
  }
  std::string golden = testing::ReadFile(golden_path);
  ASSERT_FALSE(golden.empty()) << "missing " << golden_path << "; run with UPDATE_GOLDEN=1";
  EXPECT_EQ(once.Stdout(), golden);
}

}  // namespace
}  // namespace metricsd
