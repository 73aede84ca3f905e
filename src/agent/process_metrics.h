// metricsd's own process metrics (process_* as Prometheus client libraries name them),
// read from the namespace metricsd runs in (not HOST_PROC). CPU time and resident memory
// are read on every /metrics request, as cheaply as the kernel allows: the process CPU
// clock (one system call, nanoseconds rather than clock ticks) and one pread of
// /proc/self/statm, kept open (a fresh open costs path lookups; /proc/self/stat would
// format some fifty fields and walk every thread, three times the cost). The open-descriptor count
// needs a listing of /proc/self/fd (three system calls), so the collection cycle takes it
// (SampleOpenFds) and requests report the latest. Thread-safe.
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
  // Counts the open file descriptors now; Append reports the count until the next call.
  void SampleOpenFds();

 private:
  std::mutex mutex_;
  UniqueFd statm_;      // /proc/self/statm; guarded by mutex_
  DIR* fds_ = nullptr;  // /proc/self/fd; guarded by mutex_
  int open_fds_ = -1;   // -1: not counted (yet); guarded by mutex_
};

}  // namespace metricsd
