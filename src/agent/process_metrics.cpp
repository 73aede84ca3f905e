#include "agent/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
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
    : stat_(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)), fds_(::opendir("/proc/self/fd")) {}

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
  if (!stat_.valid()) {
    return;
  }
  char buf[1024];
  ssize_t n = ::pread(stat_.get(), buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return;
  }
  std::string_view stat(buf, static_cast<std::size_t>(n));
  // Fields after the command name, which is in parentheses and may contain spaces.
  std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 >= stat.size()) {
    return;
  }
  std::string_view rest = stat.substr(close + 2);
  std::string_view fields[24];
  std::size_t count = 0;
  while (!rest.empty() && count < std::size(fields)) {
    std::size_t space = rest.find(' ');
    fields[count++] = rest.substr(0, space);
    if (space == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(space + 1);
  }
  if (count < 22) {
    return;
  }
  // fields[0] is stat field 3 (state): utime=14, stime=15, starttime=22, rss=24.
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double cpu = static_cast<double>(ParseField(fields[11]) + ParseField(fields[12])) / ticks;
  double rss =
      static_cast<double>(ParseField(fields[21])) * static_cast<double>(::sysconf(_SC_PAGESIZE));
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
