// The filesystem collector re-reads the mount table only when poll(2) on mountinfo reports a
// change. This proves that on the real kernel: a child process in its own mount namespace
// mounts and unmounts a tmpfs and checks that the collector sees both. Needs CAP_SYS_ADMIN
// (skipped without it).
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "collectors/filesystem_collector.h"
#include "test_util.h"

namespace metricsd {
namespace {

// Exit codes of the child, so the parent can say what failed.
enum ChildResult : int {
  kPassed = 0,
  kNoPrivilege = 10,
  kNotSeenAfterMount = 11,
  kSeenBeforeMount = 12,
  kStillSeenAfterUnmount = 13,
  kSetupFailed = 14,
};

int RunInChild(const std::string& scratch) {
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return kNoPrivilege;
  }
  // HOST_PROC whose "1" is this process, so "1/mountinfo" is our namespace's table (a real
  // procfs file that supports poll).
  const std::string proc = scratch + "/proc";
  const std::string target = scratch + "/mnt";
  std::error_code ec;
  std::filesystem::create_directories(proc, ec);
  std::filesystem::create_directories(target, ec);
  std::filesystem::create_directory_symlink("/proc/self", proc + "/1", ec);
  if (ec) {
    return kSetupFailed;
  }
  config::FilesystemOptions options;
  options.fstype_include = "^tmpfs$";
  options.fstype_exclude = "";
  options.mountpoint_include = "^" + target + "$";
  options.mountpoint_exclude = "";
  FilesystemCollector fs(HostPaths{.proc = proc, .sys = "/sys", .root = "/"}, options);
  auto seen = [&] {
    return testing_util::SampleCount(fs.Collect(testing_util::Ctx()), "system_disk_total_bytes");
  };
  if (seen() != 0 || seen() != 0) {
    return kSeenBeforeMount;
  }
  if (::mount("metricsd-test", target.c_str(), "tmpfs", 0, "size=1m") != 0) {
    return kNoPrivilege;
  }
  if (seen() != 1 || seen() != 1) {
    return kNotSeenAfterMount;
  }
  if (::umount(target.c_str()) != 0) {
    return kSetupFailed;
  }
  if (seen() != 0) {
    return kStillSeenAfterUnmount;
  }
  return kPassed;
}

TEST(MountWatch, MountAndUnmountAreNoticedThroughPoll) {
  std::string templ = (std::filesystem::temp_directory_path() / "metricsd-mnt-XXXXXX").string();
  const std::string scratch = ::mkdtemp(templ.data());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::_exit(RunInChild(scratch));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::filesystem::remove_all(scratch);
  ASSERT_TRUE(WIFEXITED(status));
  const int code = WEXITSTATUS(status);
  if (code == kNoPrivilege) {
    GTEST_SKIP() << "needs CAP_SYS_ADMIN to mount in a private mount namespace";
  }
  EXPECT_NE(code, kSetupFailed) << "could not prepare the scratch tree";
  EXPECT_NE(code, kSeenBeforeMount);
  EXPECT_NE(code, kNotSeenAfterMount) << "a new mount was not picked up";
  EXPECT_NE(code, kStillSeenAfterUnmount) << "an unmount was not picked up";
  EXPECT_EQ(code, kPassed);
}

}  // namespace
}  // namespace metricsd
