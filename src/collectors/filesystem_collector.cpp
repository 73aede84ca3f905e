#include "collectors/filesystem_collector.h"

#include <linux/magic.h>
#include <poll.h>
#include <sys/statfs.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "procfs/proc_mountinfo.h"
#include "procfs/text.h"

namespace metricsd {

Result<FsStat> SystemStatFs(const std::string& path) {
  struct statfs buf;
  int rc;
  do {
    rc = ::statfs(path.c_str(), &buf);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    return Error{"statfs " + path + ": " + std::strerror(errno)};
  }
  FsStat out;
  out.block_size = static_cast<std::uint64_t>(buf.f_frsize > 0 ? buf.f_frsize : buf.f_bsize);
  out.io_block_size = static_cast<std::uint64_t>(buf.f_bsize);
  out.blocks = buf.f_blocks;
  out.blocks_free = buf.f_bfree;
  out.blocks_available = buf.f_bavail;
  out.files = buf.f_files;
  out.files_free = buf.f_ffree;
  return out;
}

// Mountpoints whose statfs is blocked in an abandoned worker.
struct FilesystemCollector::StuckSet {
  mutable std::mutex mu;
  std::set<std::string> mountpoints;  // guarded by mu
};

// Shared by the collector and one worker thread; outlives the collector when the worker is
// abandoned in a hung statfs. Lock order: WorkerState::mu before StuckSet::mu.
struct FilesystemCollector::WorkerState {
  std::mutex mu;
  std::condition_variable cv;
  // All guarded by mu. `paths` changes only while has_work is false.
  std::vector<std::string> paths;
  std::vector<Outcome> results;
  std::size_t done = 0;  // results[0, done) are filled; the worker is on paths[done]
  bool has_work = false;
  bool stop = false;
  bool abandoned = false;
  std::string stuck_mountpoint;  // set when abandoned
  std::thread thread;            // touched by the collector only
};

FilesystemCollector::FilesystemCollector(const HostPaths& paths,
                                         const config::FilesystemOptions& options,
                                         NameProfile profile)
    : FilesystemCollector(paths, options, SystemStatFs, profile) {}

FilesystemCollector::FilesystemCollector(const HostPaths& paths,
                                         const config::FilesystemOptions& options,
                                         StatFsFunction statfs, NameProfile profile)
    : paths_(paths),
      profile_(profile),
      mountpoint_filter_(options.mountpoint_include, options.mountpoint_exclude),
      fstype_filter_(options.fstype_include, options.fstype_exclude),
      timeout_(options.statfs_timeout),
      statfs_(std::move(statfs)),
      mountinfo_file_(paths.Proc("1/mountinfo"), 16 * 1024),
      fallback_mountinfo_file_(paths.Proc("self/mountinfo"), 16 * 1024),
      stuck_(std::make_shared<StuckSet>()) {}

FilesystemCollector::~FilesystemCollector() { StopWorker(); }

std::vector<std::string> FilesystemCollector::StuckMountpoints() const {
  std::lock_guard lock(stuck_->mu);
  return {stuck_->mountpoints.begin(), stuck_->mountpoints.end()};
}

void FilesystemCollector::StartWorker() {
  worker_ = std::make_shared<WorkerState>();
  last_batch_.clear();
  worker_->thread = std::thread([state = worker_, statfs = statfs_, stuck = stuck_] {
    std::unique_lock lock(state->mu);
    for (;;) {
      state->cv.wait(lock, [&] { return state->has_work || state->stop; });
      if (state->stop) {
        return;
      }
      while (state->done < state->paths.size()) {
        const std::string& path = state->paths[state->done];
        lock.unlock();
        Result<FsStat> result = statfs(path);
        lock.lock();
        if (state->abandoned) {
          std::lock_guard stuck_lock(stuck->mu);
          stuck->mountpoints.erase(state->stuck_mountpoint);
          return;
        }
        Outcome& out = state->results[state->done];
        out.ok = result.ok();
        if (result.ok()) {
          out.stat = *result;
        }
        ++state->done;
      }
      state->has_work = false;
      state->cv.notify_all();
    }
  });
}

void FilesystemCollector::StopWorker() {
  if (!worker_) {
    return;
  }
  {
    std::lock_guard lock(worker_->mu);
    worker_->stop = true;
  }
  worker_->cv.notify_all();
  if (worker_->thread.joinable()) {
    worker_->thread.join();
  }
  worker_.reset();
}

namespace {

// True when poll(2) says the mount table behind `fd` may have changed since the last poll.
bool MountTableMayHaveChanged(int fd) {
  pollfd p{.fd = fd, .events = POLLPRI, .revents = 0};
  int rc;
  do {
    rc = ::poll(&p, 1, 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    return true;  // cannot tell: read it
  }
  return rc > 0 && (p.revents & (POLLPRI | POLLERR | POLLNVAL)) != 0;
}

bool IsProcfs(int fd) {
  struct statfs buf;
  return fd >= 0 && ::fstatfs(fd, &buf) == 0 && buf.f_type == PROC_SUPER_MAGIC;
}

}  // namespace

Status FilesystemCollector::RefreshMounts() {
  if (have_mounts_ && watched_fd_ >= 0 && !MountTableMayHaveChanged(watched_fd_)) {
    return {};
  }
  procfs::ProcFile* source = &mountinfo_file_;
  auto text = mountinfo_file_.Read();
  if (!text.ok()) {
    source = &fallback_mountinfo_file_;
    text = fallback_mountinfo_file_.Read();
    if (!text.ok()) {
      have_mounts_ = false;
      watched_fd_ = -1;
      return Error{text.error()};
    }
  }
  // The kernel's change marker starts at open(), before this read, so a change racing with
  // the read is still reported by the next poll.
  watched_fd_ = IsProcfs(source->fd()) ? source->fd() : -1;
  have_mounts_ = true;
  if (*text != mountinfo_bytes_) {
    mountinfo_bytes_.assign(text->data(), text->size());
    Rediscover(mountinfo_bytes_);
  }
  return {};
}

namespace {

// "/dev/root" is the kernel's alias for the root device given on the command line; the
// device's real name is in sysfs.
std::string ResolveRootDevice(const HostPaths& paths, std::uint32_t major, std::uint32_t minor) {
  procfs::ProcFile uevent(
      paths.Sys("dev/block/" + std::to_string(major) + ":" + std::to_string(minor) + "/uevent"),
      512);
  auto text = uevent.Read();
  if (text.ok()) {
    std::string_view rest = *text;
    while (!rest.empty()) {
      std::string_view line = procfs::NextLine(rest);
      if (line.substr(0, 8) == "DEVNAME=") {
        return "/dev/" + std::string(line.substr(8));
      }
    }
  }
  return "/dev/root";
}

struct Candidate {
  std::uint64_t device_id;
  bool fs_root;
  bool on_worker;
  std::string mountpoint;
  std::string device;
  std::string fstype;
  bool readonly = false;
};

// "ro" among comma-separated mount options.
bool HasReadOnly(std::string_view options) {
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    if (options.substr(0, comma) == "ro") {
      return true;
    }
    options.remove_prefix(comma == std::string_view::npos ? options.size() : comma + 1);
  }
  return false;
}

// What the mount table says about one mount, for the walk up to the root.
struct MountNode {
  std::uint32_t parent_id;
  bool may_block;  // its own statfs or path walk may wait on something outside the kernel
};

// Filesystems without a block device that live entirely in this kernel: their statfs and
// path walks never wait on a server or a daemon. (A container's root is usually overlay.)
constexpr std::string_view kLocalVirtual[] = {
    "overlay", "tmpfs",   "ramfs",    "devtmpfs",  "proc",       "sysfs",
    "cgroup",  "cgroup2", "devpts",   "mqueue",    "hugetlbfs",  "securityfs",
    "debugfs", "tracefs", "pstore",   "bpf",       "configfs",   "binfmt_misc",
    "fusectl", "nsfs",    "efivarfs", "selinuxfs", "rpc_pipefs", "btrfs",
};

bool MayBlock(const procfs::MountinfoLine& line) {
  const bool local_virtual = std::find(std::begin(kLocalVirtual), std::end(kLocalVirtual),
                                       line.fstype) != std::end(kLocalVirtual);
  if (local_virtual) {
    return false;
  }
  // Network filesystems have no block device; FUSE (fuseblk too) waits on its daemon.
  return line.major == 0 || line.fstype.substr(0, 4) == "fuse";
}

// True when statfs of the mount `id` (the path walk crosses every mount above it) could
// wait on a server or a FUSE daemon.
bool NeedsWorker(const std::map<std::uint32_t, MountNode>& nodes, std::uint32_t id) {
  for (std::size_t depth = 0; depth < nodes.size(); ++depth) {
    auto it = nodes.find(id);
    if (it == nodes.end()) {
      return false;  // above the top of this namespace's table
    }
    if (it->second.may_block) {
      return true;
    }
    if (it->second.parent_id == id) {
      return false;
    }
    id = it->second.parent_id;
  }
  return true;  // a cycle: be careful
}

// True when `a` is the better mount to report for one filesystem.
bool Prefer(const Candidate& a, const Candidate& b) {
  if (a.fs_root != b.fs_root) {
    return a.fs_root;
  }
  return a.mountpoint.size() < b.mountpoint.size();
}

}  // namespace

void FilesystemCollector::Rediscover(std::string_view mountinfo) {
  std::map<std::uint32_t, MountNode> nodes;
  for (std::string_view rest = mountinfo; !rest.empty();) {
    procfs::MountinfoLine line;
    if (procfs::ParseMountinfoLine(procfs::NextLine(rest), line)) {
      nodes[line.mount_id] = MountNode{line.parent_id, MayBlock(line)};
    }
  }
  std::vector<Candidate> candidates;
  std::map<std::string, std::size_t, std::less<>> by_mountpoint;
  while (!mountinfo.empty()) {
    procfs::MountinfoLine line;
    if (!procfs::ParseMountinfoLine(procfs::NextLine(mountinfo), line)) {
      continue;
    }
    if (!fstype_filter_.Matches(line.fstype)) {
      continue;
    }
    std::string mountpoint = procfs::UnescapeMountField(line.mount_point);
    if (!mountpoint_filter_.Matches(mountpoint)) {
      continue;
    }
    std::string device = procfs::UnescapeMountField(line.source);
    const bool native = profile_ == NameProfile::kMetricsd;
    if (native && device == "/dev/root") {
      device = ResolveRootDevice(paths_, line.major, line.minor);
    }
    Candidate c{(std::uint64_t{line.major} << 32) | line.minor,
                line.root == "/",
                NeedsWorker(nodes, line.mount_id),
                std::move(mountpoint),
                std::move(device),
                std::string(line.fstype),
                HasReadOnly(line.mount_options) || HasReadOnly(line.super_options)};
    if (!native) {
      // node_exporter: every mount, once per (device, mountpoint, fstype).
      const bool seen = std::any_of(candidates.begin(), candidates.end(), [&](const Candidate& o) {
        return o.mountpoint == c.mountpoint && o.device == c.device && o.fstype == c.fstype;
      });
      if (!seen) {
        candidates.push_back(std::move(c));
      }
      continue;
    }
    // A later mount on the same mountpoint hides the earlier one.
    auto [it, inserted] = by_mountpoint.try_emplace(c.mountpoint, candidates.size());
    if (inserted) {
      candidates.push_back(std::move(c));
    } else {
      candidates[it->second] = std::move(c);
    }
  }

  std::map<std::uint64_t, std::size_t> by_device;  // device id -> chosen candidate
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    auto [it, inserted] = by_device.try_emplace(candidates[i].device_id, i);
    if (!inserted && Prefer(candidates[i], candidates[it->second])) {
      it->second = i;
    }
  }
  std::vector<bool> chosen(candidates.size(), profile_ == NameProfile::kNodeExporter);
  for (const auto& [id, index] : by_device) {
    chosen[index] = true;
  }

  mounts_.clear();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!chosen[i]) {
      continue;
    }
    Candidate& c = candidates[i];
    Mount mount;
    mount.stat_path = paths_.Root(c.mountpoint);
    mount.labels = {{"device", std::move(c.device)},
                    {"fstype", std::move(c.fstype)},
                    {"mountpoint", c.mountpoint}};
    mount.mountpoint = std::move(c.mountpoint);
    mount.on_worker = c.on_worker;
    mount.readonly = c.readonly;
    mounts_.push_back(std::move(mount));
  }
  last_batch_.clear();
  spdlog::debug("filesystem: {} mounts to watch", mounts_.size());
}

void FilesystemCollector::RunBatch() {
  if (batch_.empty()) {
    return;
  }
  if (!worker_) {
    StartWorker();
  }
  WorkerState& w = *worker_;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::unique_lock lock(w.mu);
  if (batch_ != last_batch_) {
    w.paths.clear();
    for (std::size_t index : batch_) {
      w.paths.push_back(mounts_[index].stat_path);
    }
    last_batch_ = batch_;
  }
  w.results.assign(batch_.size(), Outcome{});
  w.done = 0;
  w.has_work = true;
  w.cv.notify_all();
  const bool finished = w.cv.wait_until(lock, deadline, [&] { return w.done == w.paths.size(); });
  for (std::size_t i = 0; i < w.done; ++i) {
    outcomes_[batch_[i]] = w.results[i];
  }
  if (finished) {
    return;
  }
  // The worker is blocked in statfs(paths[done]): leave it there with that mount.
  const std::string& mountpoint = mounts_[batch_[w.done]].mountpoint;
  w.abandoned = true;
  w.stuck_mountpoint = mountpoint;
  {
    std::lock_guard stuck_lock(stuck_->mu);
    stuck_->mountpoints.insert(mountpoint);
  }
  w.thread.detach();
  lock.unlock();
  worker_.reset();
}

CollectResult FilesystemCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void FilesystemCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = RefreshMounts(); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }

  outcomes_.assign(mounts_.size(), Outcome{});
  batch_.clear();
  {
    std::lock_guard lock(stuck_->mu);
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      if (mounts_[i].on_worker && stuck_->mountpoints.count(mounts_[i].mountpoint) == 0) {
        batch_.push_back(i);
      }
    }
  }
  for (std::size_t i = 0; i < mounts_.size(); ++i) {
    if (!mounts_[i].on_worker) {
      Result<FsStat> result = statfs_(mounts_[i].stat_path);
      outcomes_[i].ok = result.ok();
      if (result.ok()) {
        outcomes_[i].stat = *result;
      }
    }
  }
  RunBatch();

  // Log each change of a mount's stuck state once.
  std::vector<std::string> stuck_now = StuckMountpoints();
  for (const std::string& mp : stuck_now) {
    if (reported_stuck_.insert(mp).second) {
      spdlog::warn(
          "filesystem: statfs on {} did not return within {} ms; skipping it until it "
          "does",
          mp, timeout_.count());
    }
  }
  for (auto it = reported_stuck_.begin(); it != reported_stuck_.end();) {
    if (!std::binary_search(stuck_now.begin(), stuck_now.end(), *it)) {
      spdlog::info("filesystem: statfs on {} returned again", *it);
      it = reported_stuck_.erase(it);
    } else {
      ++it;
    }
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  if (profile_ == NameProfile::kMetricsd) {
    WriteMetricsdFamilies(out);
  } else {
    WriteNodeExporterFamilies(out);
  }
  out.Finish();
  if (!stuck_now.empty()) {
    result.message = std::to_string(stuck_now.size()) + " mount(s) stuck in statfs";
  }
}

void FilesystemCollector::WriteMetricsdFamilies(FamilyWriter& out) const {
  // One family at a time, over the mounts that answered.
  const auto family = [&](FamilyWriter& out, std::string_view name, std::string_view help,
                          auto value) {
    out.Family(name, help, MetricType::kGauge);
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      if (outcomes_[i].ok) {
        out.Add(value(outcomes_[i].stat), mounts_[i].labels);
      }
    }
  };
  const auto used_bytes = [](const FsStat& s) {
    const std::uint64_t used_blocks = s.blocks > s.blocks_free ? s.blocks - s.blocks_free : 0;
    return static_cast<double>(used_blocks) * static_cast<double>(s.block_size);
  };
  const auto free_bytes = [](const FsStat& s) {
    return static_cast<double>(s.blocks_available) * static_cast<double>(s.block_size);
  };
  family(out, "system_disk_total_bytes", "Size of the filesystem, in bytes.", [](const FsStat& s) {
    return static_cast<double>(s.blocks) * static_cast<double>(s.block_size);
  });
  family(out, "system_disk_used_bytes", "Space in use on the filesystem, in bytes.", used_bytes);
  family(out, "system_disk_free_bytes",
         "Space available to unprivileged users on the filesystem, in bytes.", free_bytes);
  family(out, "system_disk_usage_percent",
         "Used space as a percentage of used + available (as df shows it).", [&](const FsStat& s) {
           const double used = used_bytes(s);
           const double avail = free_bytes(s);
           return used + avail > 0 ? 100.0 * used / (used + avail) : 0.0;
         });
  family(out, "system_disk_inodes", "Inodes on the filesystem.",
         [](const FsStat& s) { return static_cast<double>(s.files); });
  family(out, "system_disk_inodes_free", "Free inodes on the filesystem.",
         [](const FsStat& s) { return static_cast<double>(s.files_free); });
}

void FilesystemCollector::WriteNodeExporterFamilies(FamilyWriter& out) const {
  out.Family("node_filesystem_device_error",
             "Whether an error occurred while getting statistics for the given device.",
             MetricType::kGauge);
  for (std::size_t i = 0; i < mounts_.size(); ++i) {
    out.Add(outcomes_[i].ok ? 0 : 1, mounts_[i].labels);
  }
  const auto family = [&](std::string_view name, std::string_view help, auto value) {
    out.Family(name, help, MetricType::kGauge);
    for (std::size_t i = 0; i < mounts_.size(); ++i) {
      if (outcomes_[i].ok) {
        out.Add(value(outcomes_[i].stat, mounts_[i]), mounts_[i].labels);
      }
    }
  };
  const auto bytes = [](std::uint64_t blocks, const FsStat& s) {
    return static_cast<double>(blocks) * static_cast<double>(s.io_block_size);
  };
  family("node_filesystem_size_bytes", "Filesystem size in bytes.",
         [&](const FsStat& s, const Mount&) { return bytes(s.blocks, s); });
  family("node_filesystem_free_bytes", "Filesystem free space in bytes.",
         [&](const FsStat& s, const Mount&) { return bytes(s.blocks_free, s); });
  family("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
         [&](const FsStat& s, const Mount&) { return bytes(s.blocks_available, s); });
  family("node_filesystem_files", "Filesystem total file nodes.",
         [](const FsStat& s, const Mount&) { return static_cast<double>(s.files); });
  family("node_filesystem_files_free", "Filesystem total free file nodes.",
         [](const FsStat& s, const Mount&) { return static_cast<double>(s.files_free); });
  family("node_filesystem_readonly", "Filesystem read-only status.",
         [](const FsStat&, const Mount& m) { return m.readonly ? 1.0 : 0.0; });
}

}  // namespace metricsd
