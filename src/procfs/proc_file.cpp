#include "procfs/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace metricsd::procfs {

ProcFile::ProcFile(std::string path, std::size_t initial_capacity, ReadMode mode)
    : path_(std::move(path)),
      capacity_(initial_capacity < 64 ? 64 : initial_capacity),
      mode_(mode) {}

bool ProcFile::Open() {
  int fd;
  do {
    fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return false;
  }
  fd_.reset(fd);
  return true;
}

long ProcFile::ReadAll() {
  if (!buffer_) {
    buffer_ = std::make_unique<char[]>(capacity_);
  }
  std::size_t size = 0;
  for (;;) {
    if (size == capacity_) {
      // Continue where we are instead of starting over: seq_file keeps its position, and a
      // single-record file (stat, meminfo) was generated in one go, so the bytes stay coherent.
      auto bigger = std::make_unique<char[]>(capacity_ * 2);
      std::memcpy(bigger.get(), buffer_.get(), size);
      buffer_ = std::move(bigger);
      capacity_ *= 2;
    }
    const ssize_t n =
        ::pread(fd_.get(), buffer_.get() + size, capacity_ - size, static_cast<off_t>(size));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    if (n == 0) {
      // seq_file hands out at most one kernel page of records per call, so a short read
      // says nothing; only a zero-length read is the end.
      return static_cast<long>(size);
    }
    size += static_cast<std::size_t>(n);
    if (mode_ == ReadMode::kSingleShot && size < capacity_) {
      return static_cast<long>(size);
    }
  }
}

Result<std::string_view> ProcFile::Read() {
  // Two attempts: an fd that went stale (ESRCH for a vanished pid, ENODEV) is reopened once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool had_fd = fd_.valid();
    if (!had_fd && !Open()) {
      last_errno_ = errno;
      return Error{path_ + ": " + std::strerror(last_errno_)};
    }
    const long size = ReadAll();
    if (size >= 0) {
      last_errno_ = 0;
      return std::string_view(buffer_.get(), static_cast<std::size_t>(size));
    }
    last_errno_ = errno;
    fd_.reset();
    if (!had_fd) {
      break;
    }
  }
  return Error{path_ + ": " + std::strerror(last_errno_)};
}

}  // namespace metricsd::procfs
