#include "procfs/proc_meminfo.h"

#include <array>
#include <utility>

#include "procfs/text.h"

namespace metricsd::procfs {

namespace {

struct Key {
  std::string_view name;
  MemInfo::Field field;
  std::uint64_t MemInfo::*member;
};

constexpr std::array<Key, 10> kKeys{{
    {"MemTotal", MemInfo::kMemTotal, &MemInfo::mem_total},
    {"MemFree", MemInfo::kMemFree, &MemInfo::mem_free},
    {"MemAvailable", MemInfo::kMemAvailable, &MemInfo::mem_available},
    {"Buffers", MemInfo::kBuffers, &MemInfo::buffers},
    {"Cached", MemInfo::kCached, &MemInfo::cached},
    {"SReclaimable", MemInfo::kSReclaimable, &MemInfo::sreclaimable},
    {"Shmem", MemInfo::kShmem, &MemInfo::shmem},
    {"SwapTotal", MemInfo::kSwapTotal, &MemInfo::swap_total},
    {"SwapFree", MemInfo::kSwapFree, &MemInfo::swap_free},
    {"SwapCached", MemInfo::kSwapCached, &MemInfo::swap_cached},
}};

std::uint64_t Sub(std::uint64_t a, std::uint64_t b) noexcept { return a > b ? a - b : 0; }

}  // namespace

std::uint64_t MemInfo::UsedBytes() const noexcept {
  return Sub(mem_total, mem_free + buffers + cached + sreclaimable);
}

std::uint64_t MemInfo::AvailableBytes() const noexcept {
  if (has(kMemAvailable)) {
    return mem_available;
  }
  const std::uint64_t estimate = mem_free + buffers + cached + sreclaimable;
  return estimate < mem_total ? estimate : mem_total;
}

std::uint64_t MemInfo::SwapUsedBytes() const noexcept { return Sub(swap_total, swap_free); }

bool ParseMeminfo(std::string_view text, MemInfo& out) noexcept {
  out = MemInfo{};
  std::uint32_t wanted = 0;
  for (const Key& key : kKeys) {
    wanted |= key.field;
  }
  while (!text.empty() && (out.present & wanted) != wanted) {
    std::string_view line = NextLine(text);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view name = line.substr(0, colon);
    for (const Key& key : kKeys) {
      if (key.name != name) {
        continue;
      }
      std::string_view rest = line.substr(colon + 1);
      std::uint64_t value = 0;
      if (!NextU64(rest, value)) {
        break;
      }
      // Every size field is in kB; the unit is printed only where it applies.
      const std::string_view unit = NextField(rest);
      out.*key.member = unit == "kB" ? value * 1024 : value;
      out.present |= key.field;
      break;
    }
  }
  return out.has(MemInfo::kMemTotal);
}

void ParseMeminfoFields(std::string_view text, std::vector<MeminfoField>& out) {
  out.clear();
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      continue;
    }
    MeminfoField field;
    field.name = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    if (!NextU64(rest, field.value)) {
      continue;
    }
    const std::string_view unit = NextField(rest);
    field.in_kb = unit == "kB";
    if (field.in_kb) {
      field.value *= 1024;
    }
    out.push_back(field);
  }
}

}  // namespace metricsd::procfs
