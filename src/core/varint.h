// LEB128 varints (protobuf's and the queue encoding's), written through a raw pointer into
// a buffer the caller has sized (at most 10 bytes per value).
#pragma once

#include <cstddef>
#include <cstdint>

namespace metricsd {

constexpr std::size_t VarintSize(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes `v` at `p`; returns the position after it.
inline char* PutVarint(char* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace metricsd
