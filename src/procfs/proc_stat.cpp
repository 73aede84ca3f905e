#include "procfs/proc_stat.h"

#include "procfs/text.h"

namespace metricsd::procfs {

CpuTimes operator-(const CpuTimes& now, const CpuTimes& before) noexcept {
  CpuTimes d;
  d.user = CounterDelta(now.user, before.user);
  d.nice = CounterDelta(now.nice, before.nice);
  d.system = CounterDelta(now.system, before.system);
  d.idle = CounterDelta(now.idle, before.idle);
  d.iowait = CounterDelta(now.iowait, before.iowait);
  d.irq = CounterDelta(now.irq, before.irq);
  d.softirq = CounterDelta(now.softirq, before.softirq);
  d.steal = CounterDelta(now.steal, before.steal);
  d.guest = CounterDelta(now.guest, before.guest);
  d.guest_nice = CounterDelta(now.guest_nice, before.guest_nice);
  return d;
}

double BusyPercent(const CpuTimes& delta) noexcept {
  const std::uint64_t total = delta.Total();
  if (total == 0) {
    return -1;
  }
  return 100.0 * static_cast<double>(delta.Busy()) / static_cast<double>(total);
}

namespace {

bool ParseCpuTimes(std::string_view rest, CpuTimes& t) {
  std::uint64_t* const fields[] = {&t.user, &t.nice,    &t.system, &t.idle,  &t.iowait,
                                   &t.irq,  &t.softirq, &t.steal,  &t.guest, &t.guest_nice};
  t = CpuTimes{};
  int parsed = 0;
  for (std::uint64_t* field : fields) {
    SkipBlanks(rest);
    if (rest.empty()) {
      break;
    }
    if (!NextU64(rest, *field)) {
      return false;
    }
    ++parsed;
  }
  return parsed >= 4;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

bool ParseProcStat(std::string_view text, ProcStat& out) {
  out.has_total = false;
  out.cpus.clear();
  out.has_boot_time = false;
  out.boot_time = out.procs_running = out.procs_blocked = out.forks = out.context_switches = 0;
  out.interrupts = 0;
  while (!text.empty()) {
    // The "intr" line can be tens of kilobytes; only its key and first number (the total) are
    // ever looked at.
    std::string_view line = NextLine(text);
    std::string_view key = NextField(line);
    if (StartsWith(key, "cpu")) {
      std::string_view number = key.substr(3);
      if (number.empty()) {
        out.has_total = ParseCpuTimes(line, out.total);
        continue;
      }
      std::uint32_t cpu = 0;
      CpuStat stat;
      if (ParseU32(number, cpu) && ParseCpuTimes(line, stat.times)) {
        stat.cpu = static_cast<int>(cpu);
        out.cpus.push_back(stat);
      }
    } else if (key == "btime") {
      out.has_boot_time = NextU64(line, out.boot_time);
    } else if (key == "procs_running") {
      NextU64(line, out.procs_running);
    } else if (key == "procs_blocked") {
      NextU64(line, out.procs_blocked);
    } else if (key == "processes") {
      NextU64(line, out.forks);
    } else if (key == "ctxt") {
      NextU64(line, out.context_switches);
    } else if (key == "intr") {
      NextU64(line, out.interrupts);
    }
  }
  return out.has_total || !out.cpus.empty();
}

}  // namespace metricsd::procfs
