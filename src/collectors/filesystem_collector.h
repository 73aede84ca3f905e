// FilesystemCollector: size, use and free space of the host's real filesystems, from the
// host's mount table (HOST_PROC/1/mountinfo, falling back to HOST_PROC/self/mountinfo) and
// statfs(2) on HOST_ROOT + mountpoint. Labels: device (the mount source), mountpoint,
// fstype.
//
// Which mounts: those whose fstype and mountpoint pass the config's include/exclude
// patterns (by default pseudo and virtual filesystems are left out). The mount table is
// re-read only when the kernel says it changed (poll(2) on mountinfo reports POLLPRI after
// any mount or unmount in that namespace), and re-parsed only when its bytes differ; where
// the file is not a procfs file (test fixtures) it is re-read every tick. A mountpoint mounted over
// reports the top mount only. A filesystem mounted several times (bind mounts, the same
// device at two places) is reported once: the mount of the filesystem's own root ("/" in
// mountinfo's root field) wins over bind mounts of subdirectories, then the shortest
// mountpoint, then the first in the table.
//
// In the node_exporter profile the mounts and families are node_exporter 1.5's: every mount
// that passes the filters with its own (device, mountpoint, fstype) (bind mounts included, the
// device as the mount table names it), node_filesystem_{size,free,avail}_bytes, _files,
// _files_free, _readonly, and _device_error (1, alone, for a mount whose statfs failed or is
// stuck).
//
// Hung mounts: statfs of a local filesystem (on a block device and not FUSE, or one of a
// known list of in-kernel filesystems such as overlay, tmpfs, btrfs), reached through local
// mounts only, runs on the collecting thread: it reads in-memory counters and cannot wait
// on a server, and a thread hand-off would cost more than the call. Every other mount
// (network and FUSE filesystems, unknown filesystems without a block device, anything
// below such a mount) goes to a worker thread; Collect() waits for that batch at most
// `statfs_timeout`. When the deadline passes, the mount the
// worker is blocked on is marked stuck and the worker is left behind with it; mounts after it in
// that batch are missing for that one tick; a fresh worker serves the next tick. A stuck mount is
// skipped until its statfs returns. At most one thread exists per stuck mount, so the count is
// bounded by the mount table. The statfs function is injectable so tests can hang a mount on
// purpose.
//
// Not thread-safe (one Collect() at a time); StuckMountpoints() may be called from any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/name_filter.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "core/result.h"
#include "procfs/proc_file.h"

namespace metricsd {

struct FsStat {
  std::uint64_t block_size = 0;     // unit of the block counts (f_frsize)
  std::uint64_t io_block_size = 0;  // f_bsize: the unit node_exporter multiplies them by
  std::uint64_t blocks = 0;
  std::uint64_t blocks_free = 0;       // free for root
  std::uint64_t blocks_available = 0;  // free for unprivileged users
  std::uint64_t files = 0;
  std::uint64_t files_free = 0;
};

// Called on the worker thread; must be safe to call concurrently with itself.
using StatFsFunction = std::function<Result<FsStat>(const std::string& path)>;

// statfs(2), retried on EINTR.
Result<FsStat> SystemStatFs(const std::string& path);

class FilesystemCollector final : public Collector {
 public:
  // Throws std::invalid_argument on an invalid pattern (start-up only).
  FilesystemCollector(const HostPaths& paths, const config::FilesystemOptions& options,
                      NameProfile profile = NameProfile::kMetricsd);
  FilesystemCollector(const HostPaths& paths, const config::FilesystemOptions& options,
                      StatFsFunction statfs, NameProfile profile = NameProfile::kMetricsd);
  ~FilesystemCollector() override;

  FilesystemCollector(const FilesystemCollector&) = delete;
  FilesystemCollector& operator=(const FilesystemCollector&) = delete;

  std::string_view name() const override {
    return profile_ == NameProfile::kMetricsd ? "filesystem" : "node_filesystem";
  }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

  // Mountpoints whose statfs passed its deadline and has not returned yet.
  std::vector<std::string> StuckMountpoints() const;

 private:
  struct StuckSet;
  struct WorkerState;
  struct Mount {
    std::string mountpoint;
    std::string stat_path;  // HOST_ROOT + mountpoint
    Labels labels;          // {device, fstype, mountpoint}
    bool on_worker = true;  // statfs may block: run it on the worker with a deadline
    bool readonly = false;  // the mount or its filesystem is mounted read-only
  };
  struct Outcome {
    bool ok = false;
    FsStat stat;
  };

  // Reads the mount table; rebuilds mounts_ when its bytes changed.
  Status RefreshMounts();
  void Rediscover(std::string_view mountinfo);
  void StartWorker();
  void StopWorker();
  // Runs statfs for batch_ with the deadline; fills outcomes_.
  void RunBatch();
  void WriteMetricsdFamilies(FamilyWriter& out) const;
  void WriteNodeExporterFamilies(FamilyWriter& out) const;

  HostPaths paths_;
  NameProfile profile_;
  NameFilter mountpoint_filter_;
  NameFilter fstype_filter_;
  std::chrono::milliseconds timeout_;
  StatFsFunction statfs_;
  procfs::ProcFile mountinfo_file_;
  procfs::ProcFile fallback_mountinfo_file_;
  std::string mountinfo_bytes_;  // the mount table as last parsed
  bool have_mounts_ = false;     // mountinfo_bytes_ holds a successful read
  int watched_fd_ = -1;          // the procfs mountinfo fd whose poll() says "changed"
  std::vector<Mount> mounts_;
  std::vector<std::size_t> batch_;       // indices into mounts_ sent to the worker this tick
  std::vector<std::size_t> last_batch_;  // what the worker's path list holds
  std::vector<Outcome> outcomes_;        // one per mounts_ entry
  std::shared_ptr<StuckSet> stuck_;
  std::shared_ptr<WorkerState> worker_;   // null until needed, and after abandoning one
  std::set<std::string> reported_stuck_;  // for logging state changes once
};

}  // namespace metricsd
