// ProcPidCounter: counts the processes (numeric directory names) under a /proc directory.
// The directory is opened once; each Count() rewinds it and reads the entries with
// getdents64 into a reused buffer, with no per-entry allocation. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace metricsd::procfs {

class ProcPidCounter {
 public:
  explicit ProcPidCounter(std::string proc_dir);

  Result<std::uint64_t> Count();

 private:
  std::string dir_;
  UniqueFd fd_;
  std::unique_ptr<char[]> buffer_;
};

}  // namespace metricsd::procfs
