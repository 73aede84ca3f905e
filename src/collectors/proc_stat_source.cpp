#include "collectors/proc_stat_source.h"

namespace metricsd {

ProcStatSource::ProcStatSource(const HostPaths& paths)
    : file_(paths.Proc("stat"), 16 * 1024, procfs::ProcFile::ReadMode::kSingleShot) {}

Status ProcStatSource::Refresh() {
  auto text = file_.Read();
  if (!text.ok()) {
    return Error{text.error()};
  }
  if (!procfs::ParseProcStat(*text, stat_) && !stat_.has_boot_time) {
    return Error{file_.path() + ": no cpu lines"};
  }
  return {};
}

Status ProcStatSource::Get(std::chrono::steady_clock::time_point tick, procfs::ProcStat& out) {
  std::lock_guard lock(mu_);
  if (!tick_ || *tick_ != tick) {
    last_ = Refresh();
    tick_ = tick;
  }
  if (last_.ok()) {
    out = stat_;  // vector copy-assignment reuses out's capacity
  }
  return last_;
}

}  // namespace metricsd
