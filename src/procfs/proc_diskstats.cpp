#include "procfs/proc_diskstats.h"

#include "procfs/text.h"

namespace metricsd::procfs {

DiskStats operator-(const DiskStats& now, const DiskStats& before) noexcept {
  DiskStats d;
  d.reads_completed = CounterDelta(now.reads_completed, before.reads_completed);
  d.reads_merged = CounterDelta(now.reads_merged, before.reads_merged);
  d.sectors_read = CounterDelta(now.sectors_read, before.sectors_read);
  d.read_time_ms = CounterDelta(now.read_time_ms, before.read_time_ms);
  d.writes_completed = CounterDelta(now.writes_completed, before.writes_completed);
  d.writes_merged = CounterDelta(now.writes_merged, before.writes_merged);
  d.sectors_written = CounterDelta(now.sectors_written, before.sectors_written);
  d.write_time_ms = CounterDelta(now.write_time_ms, before.write_time_ms);
  d.ios_in_progress = now.ios_in_progress;
  d.io_time_ms = CounterDelta(now.io_time_ms, before.io_time_ms);
  d.weighted_io_time_ms = CounterDelta(now.weighted_io_time_ms, before.weighted_io_time_ms);
  d.discards_completed = CounterDelta(now.discards_completed, before.discards_completed);
  d.discards_merged = CounterDelta(now.discards_merged, before.discards_merged);
  d.sectors_discarded = CounterDelta(now.sectors_discarded, before.sectors_discarded);
  d.discard_time_ms = CounterDelta(now.discard_time_ms, before.discard_time_ms);
  d.flushes_completed = CounterDelta(now.flushes_completed, before.flushes_completed);
  d.flush_time_ms = CounterDelta(now.flush_time_ms, before.flush_time_ms);
  return d;
}

bool SplitDiskstatsLine(std::string_view line, DiskstatsLine& out,
                        std::string_view& counters) noexcept {
  out = DiskstatsLine{};
  if (!ParseU32(NextField(line), out.major) || !ParseU32(NextField(line), out.minor)) {
    return false;
  }
  out.name = NextField(line);
  counters = line;
  return !out.name.empty();
}

bool ParseDiskstatsCounters(std::string_view counters, DiskstatsLine& out) noexcept {
  std::uint64_t values[17] = {};
  int count = 0;
  for (; count < 17; ++count) {
    SkipBlanks(counters);
    if (counters.empty()) {
      break;
    }
    if (!NextU64(counters, values[count])) {
      return false;
    }
  }
  // Counters beyond the 17 known ones (a newer kernel's) are ignored.
  out.field_count = count + 3;
  DiskStats& s = out.stats;
  s = DiskStats{};
  if (count == 4) {
    // 2.6 kernels before 2.6.25 printed partitions with four counters.
    s.reads_completed = values[0];
    s.sectors_read = values[1];
    s.writes_completed = values[2];
    s.sectors_written = values[3];
    return true;
  }
  if (count < 11) {
    return false;
  }
  s.reads_completed = values[0];
  s.reads_merged = values[1];
  s.sectors_read = values[2];
  s.read_time_ms = values[3];
  s.writes_completed = values[4];
  s.writes_merged = values[5];
  s.sectors_written = values[6];
  s.write_time_ms = values[7];
  s.ios_in_progress = values[8];
  s.io_time_ms = values[9];
  s.weighted_io_time_ms = values[10];
  s.discards_completed = values[11];
  s.discards_merged = values[12];
  s.sectors_discarded = values[13];
  s.discard_time_ms = values[14];
  s.flushes_completed = values[15];
  s.flush_time_ms = values[16];
  return true;
}

bool ParseDiskstatsLine(std::string_view line, DiskstatsLine& out) noexcept {
  std::string_view counters;
  return SplitDiskstatsLine(line, out, counters) && ParseDiskstatsCounters(counters, out);
}

}  // namespace metricsd::procfs
