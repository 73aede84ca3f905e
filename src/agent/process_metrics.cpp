#include "agent/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

#include "core/unique_fd.h"

namespace metricsd {

namespace {

std::uint64_t ParseField(std::string_view text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

ProcessMetrics::ProcessMetrics()
    : statm_(::open("/proc/self/statm", O_RDONLY | O_CLOEXEC)), fds_(::opendir("/proc/self/fd")) {}

ProcessMetrics::~ProcessMetrics() {
  if (fds_ != nullptr) {
    ::closedir(fds_);
  }
}

void ProcessMetrics::SampleOpenFds() {
  std::lock_guard lock(mutex_);
  if (fds_ == nullptr) {
    return;
  }
  ::rewinddir(fds_);  // /proc re-lists the table from the start
  int count = 0;
  while (dirent* entry = ::readdir(fds_)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  open_fds_ = count - 1;  // the descriptor of the listing itself
}

void ProcessMetrics::Append(std::int64_t wall_ms, std::vector<MetricFamily>& out) {
  std::lock_guard lock(mutex_);
  timespec cpu_time{};
  if (!statm_.valid() || ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_time) != 0) {
    return;
  }
  char buf[256];
  ssize_t n = ::pread(statm_.get(), buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return;
  }
  // "size resident shared text lib data dt", in pages.
  std::string_view statm(buf, static_cast<std::size_t>(n));
  std::size_t space = statm.find(' ');
  if (space == std::string_view::npos) {
    return;
  }
  statm.remove_prefix(space + 1);
  double cpu = static_cast<double>(cpu_time.tv_sec) + static_cast<double>(cpu_time.tv_nsec) / 1e9;
  double rss = static_cast<double>(ParseField(statm.substr(0, statm.find(' ')))) *
               static_cast<double>(::sysconf(_SC_PAGESIZE));
  out.push_back(FamilyBuilder("process_cpu_seconds_total",
                              "User and system CPU time spent by metricsd.", MetricType::kCounter,
                              wall_ms)
                    .Add(cpu)
                    .Build());
  out.push_back(FamilyBuilder("process_resident_memory_bytes", "Resident memory of metricsd.",
                              MetricType::kGauge, wall_ms)
                    .Add(rss)
                    .Build());
  if (open_fds_ >= 0) {
    out.push_back(FamilyBuilder("process_open_fds",
                                "Open file descriptors of metricsd, as of the last collection.",
                                MetricType::kGauge, wall_ms)
                      .Add(open_fds_)
                      .Build());
  }
}

}  // namespace metricsd
