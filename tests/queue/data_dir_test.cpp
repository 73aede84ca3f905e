#include "queue/data_dir.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::TempDir;

TEST(ResolveDataDir, ConfiguredWins) {
  EXPECT_EQ(ResolveDataDir("/srv/q", "/etc/metricsd.json", "/nonexistent"), "/srv/q");
  EXPECT_EQ(ResolveDataDir("rel/q", "", "/nonexistent"), "rel/q");
}

TEST(ResolveDataDir, SystemDirWhenWritableOrCreatable) {
  TempDir tmp;
  EXPECT_EQ(ResolveDataDir("", "/etc/x.json", tmp.path()), tmp.path());
  EXPECT_EQ(ResolveDataDir("", "/etc/x.json", tmp.sub("new")), tmp.sub("new"));
  EXPECT_TRUE(std::filesystem::is_directory(tmp.sub("new")));
}

TEST(ResolveDataDir, BesideTheConfigFileOtherwise) {
  TempDir tmp;
  std::ofstream(tmp.sub("blocker")) << "x";
  const std::string unusable = tmp.sub("blocker/metricsd");
  EXPECT_EQ(ResolveDataDir("", tmp.sub("conf/metricsd.json"), unusable), tmp.sub("conf/data"));
  EXPECT_EQ(ResolveDataDir("", "", unusable), (std::filesystem::current_path() / "data").string());
}

TEST(ShipperDataDir, NamesCannotEscape) {
  EXPECT_EQ(ShipperDataDir("/d", "prom"), "/d/prom");
  EXPECT_EQ(ShipperDataDir("/d/", "a b/c"), "/d/a_b_c");
  EXPECT_EQ(ShipperDataDir("/d", ".."), "/d/_..");
  EXPECT_EQ(ShipperDataDir("/d", "."), "/d/_.");
  EXPECT_EQ(ShipperDataDir("/d", ""), "/d/_");
  EXPECT_EQ(ShipperDataDir("/d", "x.y-z_1"), "/d/x.y-z_1");
}

}  // namespace
}  // namespace metricsd::queue
