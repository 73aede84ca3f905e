#include "procfs/proc_pids.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

namespace metricsd::procfs {

namespace {
constexpr std::size_t kBufferSize = 32 * 1024;

// The kernel's record layout for getdents64: u64 ino, s64 off, u16 reclen, u8 type, then
// the NUL-terminated name.
constexpr std::size_t kReclenOffset = 16;
constexpr std::size_t kTypeOffset = 18;
constexpr std::size_t kNameOffset = 19;

bool IsPid(const char* name) {
  if (*name == '\0') {
    return false;
  }
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9') {
      return false;
    }
  }
  return true;
}

bool IsDot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}
}  // namespace

ProcPidCounter::ProcPidCounter(std::string proc_dir) : dir_(std::move(proc_dir)) {}

Status ProcPidCounter::EnsureOpen() {
  if (fd_.valid()) {
    return {};
  }
  const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error{dir_ + ": " + std::strerror(errno)};
  }
  fd_.reset(fd);
  mode_ = Mode::kUnknown;
  return {};
}

Result<ProcPidCounter::Listing> ProcPidCounter::List() {
  if (!buffer_) {
    buffer_ = std::make_unique<char[]>(kBufferSize);
  }
  if (::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    const int err = errno;
    fd_.reset();
    return Error{dir_ + ": " + std::strerror(err)};
  }
  Listing listing;
  for (;;) {
    const long n = ::syscall(SYS_getdents64, fd_.get(), buffer_.get(), kBufferSize);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      fd_.reset();
      return Error{dir_ + ": " + std::strerror(err)};
    }
    if (n == 0) {
      return listing;
    }
    for (long offset = 0; offset < n;) {
      const char* entry = buffer_.get() + offset;
      unsigned short reclen;
      std::memcpy(&reclen, entry + kReclenOffset, sizeof reclen);
      const auto type = static_cast<unsigned char>(entry[kTypeOffset]);
      const char* name = entry + kNameOffset;
      if (type == DT_DIR || type == DT_UNKNOWN) {
        if (IsPid(name)) {
          ++listing.pids;
        } else if (!IsDot(name)) {
          ++listing.other_dirs;
        }
      }
      if (reclen == 0) {
        break;
      }
      offset += reclen;
    }
  }
}

Result<std::uint64_t> ProcPidCounter::LinkCount() {
  struct stat st;
  if (::fstat(fd_.get(), &st) != 0) {
    const int err = errno;
    fd_.reset();
    return Error{dir_ + ": " + std::strerror(err)};
  }
  return static_cast<std::uint64_t>(st.st_nlink);
}

Result<std::uint64_t> ProcPidCounter::Calibrate() {
  calls_since_calibration_ = 0;
  auto before = LinkCount();
  if (!before.ok()) {
    return Error{before.error()};
  }
  auto listing = List();
  if (!listing.ok()) {
    return Error{listing.error()};
  }
  auto after = LinkCount();
  if (!after.ok()) {
    return Error{after.error()};
  }
  if (*before == *after) {
    // A process that came or went during the listing moves nlink: then decide next time.
    const std::uint64_t static_links = 2 + listing->other_dirs;
    if (*after == static_links + listing->pids) {
      mode_ = Mode::kLinkCount;
      static_links_ = static_links;
    } else {
      mode_ = Mode::kListing;
    }
  }
  return listing->pids;
}

Result<std::uint64_t> ProcPidCounter::Count() {
  if (Status open = EnsureOpen(); !open.ok()) {
    return Error{open.error()};
  }
  if (mode_ == Mode::kUnknown || ++calls_since_calibration_ >= kRecalibrateEvery) {
    return Calibrate();
  }
  if (mode_ == Mode::kListing) {
    auto listing = List();
    if (!listing.ok()) {
      return Error{listing.error()};
    }
    return listing->pids;
  }
  auto links = LinkCount();
  if (!links.ok()) {
    return Error{links.error()};
  }
  if (*links < static_links_) {
    return Calibrate();
  }
  return *links - static_links_;
}

}  // namespace metricsd::procfs
