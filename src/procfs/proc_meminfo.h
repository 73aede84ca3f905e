// Parser for /proc/meminfo. Values are converted from the file's kB (KiB) to bytes. Every
// field records whether the kernel printed it, so a missing one (MemAvailable before 3.14,
// SReclaimable before 2.6.19) is never mistaken for zero and never becomes NaN. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace metricsd::procfs {

struct MemInfo {
  enum Field : std::uint32_t {
    kMemTotal = 1u << 0,
    kMemFree = 1u << 1,
    kMemAvailable = 1u << 2,
    kBuffers = 1u << 3,
    kCached = 1u << 4,
    kSReclaimable = 1u << 5,
    kShmem = 1u << 6,
    kSwapTotal = 1u << 7,
    kSwapFree = 1u << 8,
    kSwapCached = 1u << 9,
  };

  std::uint32_t present = 0;  // bitwise or of Field
  std::uint64_t mem_total = 0;
  std::uint64_t mem_free = 0;
  std::uint64_t mem_available = 0;
  std::uint64_t buffers = 0;
  std::uint64_t cached = 0;
  std::uint64_t sreclaimable = 0;
  std::uint64_t shmem = 0;
  std::uint64_t swap_total = 0;
  std::uint64_t swap_free = 0;
  std::uint64_t swap_cached = 0;

  bool has(Field f) const noexcept { return (present & f) != 0; }

  // Total - Free - Buffers - Cached - SReclaimable, clamped at 0 (the fields are read at
  // slightly different instants, so the difference can dip below zero on a busy host).
  std::uint64_t UsedBytes() const noexcept;
  // MemAvailable; on kernels without it, Free + Buffers + Cached + SReclaimable, an upper
  // estimate of what could be reclaimed.
  std::uint64_t AvailableBytes() const noexcept;
  // SwapTotal - SwapFree, clamped at 0.
  std::uint64_t SwapUsedBytes() const noexcept;
};

// Returns false when MemTotal is missing (not a meminfo file).
bool ParseMeminfo(std::string_view text, MemInfo& out) noexcept;

// Every line of /proc/meminfo, in file order: "Name: value [kB]". `bytes` is value * 1024
// when the unit is kB (and the plain count otherwise, e.g. HugePages_Total).
struct MeminfoField {
  std::string_view name;  // view into the text, e.g. "Active(anon)"
  std::uint64_t value = 0;
  bool in_kb = false;
};
// Appends the well-formed lines to `out` (cleared first); malformed lines are skipped.
void ParseMeminfoFields(std::string_view text, std::vector<MeminfoField>& out);

}  // namespace metricsd::procfs
