// CRC-32C (Castagnoli), the checksum of every on-disk queue record. Uses the SSE4.2
// crc32 instruction when the CPU has it, else a slicing-by-8 table. Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace metricsd::queue {

// Extends `crc` (0 for a fresh checksum) with `size` bytes at `data`.
std::uint32_t Crc32c(std::uint32_t crc, const void* data, std::size_t size) noexcept;

// The table-driven path alone, so tests can check it against the hardware one.
std::uint32_t Crc32cPortable(std::uint32_t crc, const void* data, std::size_t size) noexcept;

inline std::uint32_t Crc32c(std::string_view bytes) noexcept {
  return Crc32c(0, bytes.data(), bytes.size());
}

}  // namespace metricsd::queue
