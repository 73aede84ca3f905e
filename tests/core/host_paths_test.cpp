#include "core/host_paths.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace metricsd {
namespace {

TEST(HostPaths, JoinsWithoutDoubleSlashes) {
  HostPaths paths{.proc = "/host/proc/", .sys = "/host/sys", .root = "/rootfs"};
  EXPECT_EQ(paths.Proc("stat"), "/host/proc/stat");
  EXPECT_EQ(paths.Proc("/net/dev"), "/host/proc/net/dev");
  EXPECT_EQ(paths.Root("/"), "/rootfs");
  EXPECT_EQ(paths.Root("/home"), "/rootfs/home");
  EXPECT_EQ(HostPaths{}.Root("/boot"), "/boot");
  EXPECT_EQ(HostPaths{}.Root("/"), "/");
}

TEST(HostPaths, FromEnvironment) {
  ::setenv("HOST_PROC", "/x/proc", 1);
  ::setenv("HOST_SYS", "", 1);
  ::unsetenv("HOST_ROOT");
  HostPaths paths = HostPaths::FromEnvironment();
  EXPECT_EQ(paths.proc, "/x/proc");
  EXPECT_EQ(paths.sys, "/sys");
  EXPECT_EQ(paths.root, "/");
  ::unsetenv("HOST_PROC");
  ::unsetenv("HOST_SYS");
}

}  // namespace
}  // namespace metricsd
