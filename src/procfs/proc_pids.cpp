#include "procfs/proc_pids.h"

#include <dirent.h>
#include <fcntl.h>
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
}  // namespace

ProcPidCounter::ProcPidCounter(std::string proc_dir) : dir_(std::move(proc_dir)) {}

Result<std::uint64_t> ProcPidCounter::Count() {
  if (!fd_.valid()) {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return Error{dir_ + ": " + std::strerror(errno)};
    }
    fd_.reset(fd);
  }
  if (!buffer_) {
    buffer_ = std::make_unique<char[]>(kBufferSize);
  }
  if (::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    const int err = errno;
    fd_.reset();
    return Error{dir_ + ": " + std::strerror(err)};
  }
  std::uint64_t count = 0;
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
      break;
    }
    for (long offset = 0; offset < n;) {
      const char* entry = buffer_.get() + offset;
      unsigned short reclen;
      std::memcpy(&reclen, entry + kReclenOffset, sizeof reclen);
      const auto type = static_cast<unsigned char>(entry[kTypeOffset]);
      if ((type == DT_DIR || type == DT_UNKNOWN) && IsPid(entry + kNameOffset)) {
        ++count;
      }
      if (reclen == 0) {
        break;
      }
      offset += reclen;
    }
  }
  return count;
}

}  // namespace metricsd::procfs
