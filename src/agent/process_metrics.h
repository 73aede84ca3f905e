// metricsd's own process metrics (process_* as Prometheus client libraries name them),
// read from /proc/self of the namespace metricsd runs in (not HOST_PROC). They are read on
// every /metrics request, so the files stay open and are re-read (pread, rewinddir): a
// fresh open of /proc/self/... costs path lookups on each request. Thread-safe.
#pragma once

#include <dirent.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "core/metric.h"
#include "core/unique_fd.h"

namespace metricsd {

class ProcessMetrics {
 public:
  ProcessMetrics();
  ~ProcessMetrics();
  ProcessMetrics(const ProcessMetrics&) = delete;
  ProcessMetrics& operator=(const ProcessMetrics&) = delete;

  void Append(std::int64_t wall_ms, std::vector<MetricFamily>& out);

 private:
  int CountOpenFds();

  std::mutex mutex_;
  UniqueFd stat_;       // /proc/self/stat; guarded by mutex_
  DIR* fds_ = nullptr;  // /proc/self/fd; guarded by mutex_
};

}  // namespace metricsd
