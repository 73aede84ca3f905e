// Parser for /proc/stat: CPU time per kernel CPU number and in aggregate (USER_HZ ticks),
// boot time, process counters. Pure; thread-safe.
//
// Column counts differ by kernel: 4 (2.4), 7, 8 (+steal, 2.6.11), 9 (+guest, 2.6.24) and 10
// (+guest_nice, 2.6.33). Missing columns read as 0. `user` and `nice` already include
// `guest` and `guest_nice` (the kernel accounts guest time twice), so Total() leaves those out.
// Offline CPUs have no line, so CPU numbers may skip (cpu0, cpu2 ...).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace metricsd::procfs {

struct CpuTimes {
  std::uint64_t user = 0;
  std::uint64_t nice = 0;
  std::uint64_t system = 0;
  std::uint64_t idle = 0;
  std::uint64_t iowait = 0;
  std::uint64_t irq = 0;
  std::uint64_t softirq = 0;
  std::uint64_t steal = 0;
  std::uint64_t guest = 0;
  std::uint64_t guest_nice = 0;

  // All time the CPU existed: user .. steal (guest is inside user/nice).
  std::uint64_t Total() const noexcept {
    return user + nice + system + idle + iowait + irq + softirq + steal;
  }
  // Total minus idle and iowait: time spent doing work.
  std::uint64_t Busy() const noexcept { return Total() - idle - iowait; }

  // Field-wise difference; a field that went backwards (iowait does, on NO_HZ kernels)
  // counts as no progress.
  friend CpuTimes operator-(const CpuTimes& now, const CpuTimes& before) noexcept;
  friend bool operator==(const CpuTimes&, const CpuTimes&) = default;
};

// The modes exported per CPU, in the order of the /proc/stat columns.
inline constexpr std::array<std::pair<std::string_view, std::uint64_t CpuTimes::*>, 8> kCpuModes{{
    {"user", &CpuTimes::user},
    {"nice", &CpuTimes::nice},
    {"system", &CpuTimes::system},
    {"idle", &CpuTimes::idle},
    {"iowait", &CpuTimes::iowait},
    {"irq", &CpuTimes::irq},
    {"softirq", &CpuTimes::softirq},
    {"steal", &CpuTimes::steal},
}};

// Busy share of `delta` in percent, 0..100; a negative value when no time passed.
double BusyPercent(const CpuTimes& delta) noexcept;

struct CpuStat {
  int cpu = 0;  // the kernel's CPU number (N of "cpuN")
  CpuTimes times;
};

struct ProcStat {
  bool has_total = false;
  CpuTimes total;             // the aggregate "cpu" line
  std::vector<CpuStat> cpus;  // per-CPU lines, in file order (ascending CPU numbers)
  bool has_boot_time = false;
  std::uint64_t boot_time = 0;  // btime: seconds since the Unix epoch
  std::uint64_t procs_running = 0;
  std::uint64_t procs_blocked = 0;
  std::uint64_t forks = 0;             // "processes": forks since boot
  std::uint64_t context_switches = 0;  // "ctxt"
  std::uint64_t interrupts = 0;        // first number of "intr": all interrupts since boot
};

// Parses `text` into `out`, reusing out.cpus' capacity (no allocation once it is large
// enough). Returns false when no CPU line could be read.
bool ParseProcStat(std::string_view text, ProcStat& out);

}  // namespace metricsd::procfs
