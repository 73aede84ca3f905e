#include "collectors/filesystem_collector.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::FixtureHost;
using testing_util::SampleCount;
using testing_util::ScratchHost;
using testing_util::Value;

// A statfs stand-in: answers from a table keyed by mountpoint, fails for unknown paths,
// and blocks on one chosen mountpoint until Release().
class FakeStatFs {
 public:
  explicit FakeStatFs(std::string root) : root_(std::move(root)) {}

  void Set(const std::string& mountpoint, FsStat stat) {
    std::lock_guard lock(mu_);
    table_[mountpoint] = stat;
  }
  void Hang(const std::string& mountpoint) {
    std::lock_guard lock(mu_);
    hang_ = mountpoint;
    released_ = false;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::multiset<std::string> Calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The thread that last ran statfs for `mountpoint`.
  std::thread::id ThreadOf(const std::string& mountpoint) const {
    std::lock_guard lock(mu_);
    auto it = threads_.find(mountpoint);
    return it == threads_.end() ? std::thread::id() : it->second;
  }

  Result<FsStat> operator()(const std::string& path) {
    std::unique_lock lock(mu_);
    // Paths arrive as HOST_ROOT + mountpoint.
    const std::string mountpoint =
        path.substr(root_.size()).empty() ? "/" : path.substr(root_.size());
    calls_.insert(mountpoint);
    threads_[mountpoint] = std::this_thread::get_id();
    if (mountpoint == hang_) {
      cv_.wait(lock, [&] { return released_; });
    }
    auto it = table_.find(mountpoint);
    if (it == table_.end()) {
      return Error{"no such mount " + mountpoint};
    }
    return it->second;
  }

 private:
  std::string root_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, FsStat> table_;
  std::multiset<std::string> calls_;
  std::map<std::string, std::thread::id> threads_;
  std::string hang_;
  bool released_ = true;
};

StatFsFunction Bind(const std::shared_ptr<FakeStatFs>& fake) {
  return [fake](const std::string& path) { return (*fake)(path); };
}

Labels FsLabels(const std::string& device, const std::string& fstype,
                const std::string& mountpoint) {
  return {{"device", device}, {"fstype", fstype}, {"mountpoint", mountpoint}};
}

std::shared_ptr<FakeStatFs> FakeWithEveryMount(const HostPaths& host) {
  auto fake = std::make_shared<FakeStatFs>(host.root);
  const FsStat stat{.block_size = 4096,
                    .blocks = 1000,
                    .blocks_free = 400,
                    .blocks_available = 300,
                    .files = 50,
                    .files_free = 20};
  for (const char* mp : {"/", "/boot", "/data", "/srv/exports", "/mnt/nfs", "/media/my disk",
                         "/mnt/over", "/run", "/proc", "/var/lib/docker/overlay2/abc"}) {
    fake->Set(mp, stat);
  }
  return fake;
}

TEST(FilesystemCollector, RealFilesystemsFromTheMountTable) {
  const HostPaths host = FixtureHost();
  auto fake = FakeWithEveryMount(host);
  FilesystemCollector fs(host, config::FilesystemOptions{}, Bind(fake));
  CollectResult r = fs.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;

  // /dev/root is resolved through sysfs; the space in the mountpoint is unescaped.
  const Labels root = FsLabels("/dev/sda1", "ext4", "/");
  EXPECT_EQ(Value(r, "system_disk_total_bytes", root), 4096000.0);
  EXPECT_EQ(Value(r, "system_disk_used_bytes", root), 600 * 4096.0);
  EXPECT_EQ(Value(r, "system_disk_free_bytes", root), 300 * 4096.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_disk_usage_percent", root), 100.0 * 600 / 900);
  EXPECT_EQ(Value(r, "system_disk_inodes", root), 50.0);
  EXPECT_EQ(Value(r, "system_disk_inodes_free", root), 20.0);
  EXPECT_TRUE(Value(r, "system_disk_total_bytes", FsLabels("/dev/sda2", "vfat", "/boot")));
  EXPECT_TRUE(Value(r, "system_disk_total_bytes", FsLabels("server:/export", "nfs4", "/mnt/nfs")));
  EXPECT_TRUE(Value(r, "system_disk_total_bytes", FsLabels("/dev/sda3", "ext4", "/media/my disk")));
  // The bind mount of a subdirectory of /data is the same filesystem: reported once.
  EXPECT_TRUE(Value(r, "system_disk_total_bytes", FsLabels("/dev/mapper/vg-data", "xfs", "/data")));
  // /mnt/over was mounted over: only the top mount is reported.
  EXPECT_TRUE(Value(r, "system_disk_total_bytes", FsLabels("/dev/sda6", "ext4", "/mnt/over")));
  // Left out: proc, sysfs, devtmpfs, tmpfs, docker's storage, the hidden and the bind mount.
  EXPECT_EQ(SampleCount(r, "system_disk_total_bytes"), 6u);
  EXPECT_EQ(fake->Calls().count("/srv/exports"), 0u);
  EXPECT_EQ(fake->Calls().count("/run"), 0u);
}

TEST(FilesystemCollector, IncludeAndExcludeFromConfig) {
  const HostPaths host = FixtureHost();
  auto fake = FakeWithEveryMount(host);
  config::FilesystemOptions options;
  options.fstype_include = "^ext4$";
  options.mountpoint_exclude = "^/media/";
  FilesystemCollector fs(host, options, Bind(fake));
  CollectResult r = fs.Collect(Ctx());
  // The exclude replaces the default, so docker's storage mount is back in.
  EXPECT_EQ(SampleCount(r, "system_disk_total_bytes"), 3u);
  EXPECT_TRUE(Value(r, "system_disk_total_bytes",
                    FsLabels("/dev/sda4", "ext4", "/var/lib/docker/overlay2/abc")));
  EXPECT_EQ(Value(r, "system_disk_total_bytes", FsLabels("/dev/sda3", "ext4", "/media/my disk")),
            std::nullopt);
}

TEST(FilesystemCollector, FailedStatfsSkipsThatMountOnly) {
  const HostPaths host = FixtureHost();
  auto fake = std::make_shared<FakeStatFs>(host.root);
  fake->Set("/", FsStat{.block_size = 512, .blocks = 10});
  FilesystemCollector fs(host, config::FilesystemOptions{}, Bind(fake));
  CollectResult r = fs.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_EQ(SampleCount(r, "system_disk_total_bytes"), 1u);
  EXPECT_DOUBLE_EQ(*Value(r, "system_disk_usage_percent", FsLabels("/dev/sda1", "ext4", "/")),
                   100.0);
}

TEST(FilesystemCollector, HungMountIsSkippedUntilItReturns) {
  const HostPaths host = FixtureHost();
  auto fake = FakeWithEveryMount(host);
  fake->Hang("/mnt/nfs");
  config::FilesystemOptions options;
  options.statfs_timeout = std::chrono::milliseconds(200);
  FilesystemCollector fs(host, options, Bind(fake));

  CollectResult first = fs.Collect(Ctx());
  ASSERT_EQ(first.status, CollectStatus::kOk);
  EXPECT_EQ(fs.StuckMountpoints(), std::vector<std::string>{"/mnt/nfs"});
  EXPECT_FALSE(first.message.empty());
  const Labels nfs = FsLabels("server:/export", "nfs4", "/mnt/nfs");
  EXPECT_EQ(Value(first, "system_disk_total_bytes", nfs), std::nullopt);
  EXPECT_TRUE(Value(first, "system_disk_total_bytes", FsLabels("/dev/sda1", "ext4", "/")));

  // While it hangs, the next ticks do not touch it and report every other mount.
  CollectResult second = fs.Collect(Ctx());
  EXPECT_EQ(SampleCount(second, "system_disk_total_bytes"), 5u);
  EXPECT_EQ(Value(second, "system_disk_total_bytes", nfs), std::nullopt);
  EXPECT_EQ(fake->Calls().count("/mnt/nfs"), 1u);

  fake->Release();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs.StuckMountpoints().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(fs.StuckMountpoints().empty());
  CollectResult third = fs.Collect(Ctx());
  EXPECT_EQ(SampleCount(third, "system_disk_total_bytes"), 6u);
  EXPECT_TRUE(Value(third, "system_disk_total_bytes", nfs));
  EXPECT_TRUE(third.message.empty());
}

TEST(FilesystemCollector, OnlyMountsThatCanHangGoToTheWorker) {
  ScratchHost scratch;
  const HostPaths host = scratch.paths();
  scratch.Write("proc/1/mountinfo",
                "27 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
                "32 27 0:50 / /mnt/nfs rw - nfs4 server:/export rw\n"
                "33 32 8:7 / /mnt/nfs/disk rw - ext4 /dev/sdb1 rw\n"
                "34 27 8:8 / /win rw - fuseblk /dev/sdc1 rw\n"
                "35 27 8:9 / /home rw - xfs /dev/sdd1 rw\n"
                "36 27 0:60 / /ovl rw - overlay overlay rw\n"
                "37 36 8:10 / /ovl/disk rw - ext4 /dev/sde1 rw\n"
                "38 27 0:61 / /cephfs rw - ceph 10.0.0.1:/ rw\n");
  auto fake = std::make_shared<FakeStatFs>(host.root);
  for (const char* mp :
       {"/", "/mnt/nfs", "/mnt/nfs/disk", "/win", "/home", "/ovl/disk", "/cephfs"}) {
    fake->Set(mp, FsStat{.block_size = 4096, .blocks = 10});
  }
  FilesystemCollector fs(host, config::FilesystemOptions{}, Bind(fake));
  EXPECT_EQ(SampleCount(fs.Collect(Ctx()), "system_disk_total_bytes"), 7u);
  const std::thread::id here = std::this_thread::get_id();
  // Local filesystems reached through local mounts (overlay included): collecting thread.
  EXPECT_EQ(fake->ThreadOf("/"), here);
  EXPECT_EQ(fake->ThreadOf("/home"), here);
  EXPECT_EQ(fake->ThreadOf("/ovl/disk"), here);
  EXPECT_NE(fake->ThreadOf("/cephfs"), here);
  // Network, FUSE, and anything whose path walk crosses a network mount: on the worker.
  EXPECT_NE(fake->ThreadOf("/mnt/nfs"), here);
  EXPECT_NE(fake->ThreadOf("/mnt/nfs/disk"), here);
  EXPECT_NE(fake->ThreadOf("/win"), here);
}

TEST(FilesystemCollector, MountTableChangesArePickedUp) {
  ScratchHost scratch;
  const HostPaths host = scratch.paths();
  auto fake = std::make_shared<FakeStatFs>(host.root);
  fake->Set("/", FsStat{.block_size = 4096, .blocks = 100});
  fake->Set("/new", FsStat{.block_size = 4096, .blocks = 200});
  scratch.Write("proc/1/mountinfo", "27 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  FilesystemCollector fs(host, config::FilesystemOptions{}, Bind(fake));
  EXPECT_EQ(SampleCount(fs.Collect(Ctx()), "system_disk_total_bytes"), 1u);
  scratch.Write("proc/1/mountinfo",
                "27 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 27 8:17 / /new rw - btrfs /dev/sdb1 rw\n");
  CollectResult r = fs.Collect(Ctx());
  EXPECT_EQ(Value(r, "system_disk_total_bytes", FsLabels("/dev/sdb1", "btrfs", "/new")),
            200 * 4096.0);
}

TEST(FilesystemCollector, FallsBackToOwnMountTable) {
  ScratchHost scratch;
  const HostPaths host = scratch.paths();
  std::filesystem::create_directories(scratch.path("proc/self"));
  std::filesystem::rename(scratch.path("proc/1/mountinfo"), scratch.path("proc/self/mountinfo"));
  auto fake = FakeWithEveryMount(host);
  FilesystemCollector fs(host, config::FilesystemOptions{}, Bind(fake));
  EXPECT_EQ(SampleCount(fs.Collect(Ctx()), "system_disk_total_bytes"), 6u);
  std::filesystem::remove(scratch.path("proc/self/mountinfo"));
  FilesystemCollector none(host, config::FilesystemOptions{}, Bind(fake));
  EXPECT_EQ(none.Collect(Ctx()).status, CollectStatus::kTransient);
}

TEST(FilesystemCollector, RealStatfsOnRoot) {
  auto stat = SystemStatFs("/");
  ASSERT_TRUE(stat.ok()) << stat.error();
  EXPECT_GT(stat->blocks, 0u);
  EXPECT_GT(stat->block_size, 0u);
  EXPECT_LE(stat->blocks_available, stat->blocks_free);
  EXPECT_FALSE(SystemStatFs("/nonexistent/path").ok());
}

}  // namespace
}  // namespace metricsd
