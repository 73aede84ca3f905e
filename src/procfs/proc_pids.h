// ProcPidCounter: counts the processes (numeric directory names) under a /proc directory.
//
// Listing /proc costs tens of microseconds per call (the kernel looks up a dentry per
// process), so the count normally comes from one fstat(): procfs reports the root's link
// count as 2 + its static subdirectories + nr_processes(). A calibration lists the directory
// once with getdents64 and checks that identity (nlink == 2 + non-pid dirs + pid dirs, with
// nlink unchanged across the listing); while it holds, Count() is nlink minus the static
// part. Where it does not hold (a /proc of a child pid namespace, whose listing shows only
// that namespace while nr_processes() counts all), every Count() lists the directory.
// Calibration is repeated every kRecalibrateEvery calls, so a module adding a directory
// to /proc is noticed. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace metricsd::procfs {

class ProcPidCounter {
 public:
  static constexpr int kRecalibrateEvery = 64;

  explicit ProcPidCounter(std::string proc_dir);

  Result<std::uint64_t> Count();

  // True while counts come from the link count rather than a listing.
  bool uses_link_count() const noexcept { return mode_ == Mode::kLinkCount; }

 private:
  enum class Mode { kUnknown, kLinkCount, kListing };
  struct Listing {
    std::uint64_t pids = 0;
    std::uint64_t other_dirs = 0;
  };

  Status EnsureOpen();
  Result<Listing> List();
  Result<std::uint64_t> LinkCount();
  Result<std::uint64_t> Calibrate();

  std::string dir_;
  UniqueFd fd_;
  std::unique_ptr<char[]> buffer_;
  Mode mode_ = Mode::kUnknown;
  std::uint64_t static_links_ = 0;  // 2 + non-pid subdirectories, in kLinkCount mode
  int calls_since_calibration_ = 0;
};

}  // namespace metricsd::procfs
