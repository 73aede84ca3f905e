// ProcStatSource: /proc/stat read and parsed at most once per tick for every collector that
// needs it (cpu and host). /proc/stat is the most expensive file a cycle reads on large
// machines (its intr line sums every interrupt over every CPU), so the two collectors share
// one read when the wiring gives them the same source and the same CollectContext time.
//
// A tick is identified by CollectContext::steady_now: Get() with the time of the previous
// Get() returns the same parse; any other time reads the file again.
// Thread-safe (collectors may run on different threads); results are copied out.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/host_paths.h"
#include "core/result.h"
#include "procfs/proc_file.h"
#include "procfs/proc_stat.h"

namespace metricsd {

class ProcStatSource {
 public:
  explicit ProcStatSource(const HostPaths& paths);

  // The parse for tick `tick`, copied into `out` (reusing its capacity).
  Status Get(std::chrono::steady_clock::time_point tick, procfs::ProcStat& out);

 private:
  Status Refresh();

  std::mutex mu_;
  procfs::ProcFile file_;                                      // guarded by mu_
  procfs::ProcStat stat_;                                      // guarded by mu_
  std::optional<std::chrono::steady_clock::time_point> tick_;  // guarded by mu_
  Status last_;                                                // guarded by mu_
};

}  // namespace metricsd
