// Parser for /proc/diskstats, one line at a time, allocation-free: names are views into
// the caller's text. Pure; thread-safe.
//
// Lines have 14 fields (kernels before 4.18), 18 (+4 discard fields, 4.18) or 20 (+2 flush
// fields, 5.5); very old kernels printed partitions with 7 fields (reads, sectors read,
// writes, sectors written). Absent fields read as 0. Sectors are always 512 bytes here,
// whatever the device's sector size.
#pragma once

#include <cstdint>
#include <string_view>

namespace metricsd::procfs {

inline constexpr std::uint64_t kDiskstatsSectorBytes = 512;

struct DiskStats {
  std::uint64_t reads_completed = 0;
  std::uint64_t reads_merged = 0;
  std::uint64_t sectors_read = 0;
  std::uint64_t read_time_ms = 0;
  std::uint64_t writes_completed = 0;
  std::uint64_t writes_merged = 0;
  std::uint64_t sectors_written = 0;
  std::uint64_t write_time_ms = 0;
  std::uint64_t ios_in_progress = 0;  // a gauge, not a counter
  std::uint64_t io_time_ms = 0;
  std::uint64_t weighted_io_time_ms = 0;
  std::uint64_t discards_completed = 0;
  std::uint64_t discards_merged = 0;
  std::uint64_t sectors_discarded = 0;
  std::uint64_t discard_time_ms = 0;
  std::uint64_t flushes_completed = 0;
  std::uint64_t flush_time_ms = 0;

  // Counter deltas (a decrease counts as 0); ios_in_progress is taken from `now`.
  friend DiskStats operator-(const DiskStats& now, const DiskStats& before) noexcept;
  friend bool operator==(const DiskStats&, const DiskStats&) = default;
};

struct DiskstatsLine {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::string_view name;  // view into the parsed text
  int field_count = 0;    // fields on the line, including major, minor and name
  DiskStats stats;
};

// Returns false for a line that is not a diskstats record (blank, malformed).
bool ParseDiskstatsLine(std::string_view line, DiskstatsLine& out) noexcept;

// ParseDiskstatsLine in two steps, so that a reader can skip the devices it does not report
// before parsing their counters:
// SplitDiskstatsLine reads major, minor and name into `out` (stats left zero) and returns
// the rest of the line in `counters`; false when the line is not a record.
bool SplitDiskstatsLine(std::string_view line, DiskstatsLine& out,
                        std::string_view& counters) noexcept;
// Parses the counters of a split line into `out.stats` and sets `out.field_count`; false
// when they are malformed (then `out.stats` is unspecified).
bool ParseDiskstatsCounters(std::string_view counters, DiskstatsLine& out) noexcept;

}  // namespace metricsd::procfs
