// ProcFile: one file under /proc or /sys, opened once and re-read from offset 0 each tick
// into a buffer that is reused (and only ever grows), the way the kernel's seq_file
// interface is cheapest to read.
//
// Read() returns a view of the whole current content; the view stays valid until the next
// Read() or the object's destruction. A read that fills the buffer grows it and continues,
// so files of any size come back whole. EINTR is retried; any other error closes the file so
// that the next Read() opens it afresh (a file that disappears and reappears, a stale fd
// after a namespace change). Not thread-safe: one owner calls Read().
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace metricsd::procfs {

class ProcFile {
 public:
  enum class ReadMode {
    // Read until pread returns 0: seq_file hands out iterated records (diskstats, net/dev,
    // mountinfo) at most a kernel page at a time, so a short read is not the end.
    kUntilEof,
    // The kernel builds the whole file in one go (single_open: stat, meminfo, uptime,
    // loadavg, pressure/*; regular files): a read shorter than the buffer is all of it,
    // which saves the final zero-length read.
    kSingleShot,
  };

  explicit ProcFile(std::string path, std::size_t initial_capacity = 4096,
                    ReadMode mode = ReadMode::kUntilEof);

  ProcFile(ProcFile&&) noexcept = default;
  ProcFile& operator=(ProcFile&&) noexcept = default;

  // The whole content, or why it could not be read. The error text names the path.
  Result<std::string_view> Read();

  // errno of the last failed Read() (0 after a success), e.g. to tell ENOENT/EOPNOTSUPP
  // (not applicable) from a transient failure.
  int last_errno() const noexcept { return last_errno_; }
  const std::string& path() const noexcept { return path_; }
  // The open descriptor (-1 before the first Read() and after a failed one), for poll(2)
  // on files that signal changes, such as mountinfo. Owned by this object.
  int fd() const noexcept { return fd_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  bool Open();
  // Reads everything from offset 0; returns the size, or -1 with errno set.
  long ReadAll();

  std::string path_;
  UniqueFd fd_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_;
  ReadMode mode_;
  int last_errno_ = 0;
};

}  // namespace metricsd::procfs
