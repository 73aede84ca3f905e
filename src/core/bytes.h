// Equality, ordering and hashing of short byte strings without a call into libc: label
// names, label values and metric names are mostly under 64 bytes and compared millions of
// times a second on the scrape path, where memcmp's call and dispatch cost more than the
// comparison. SameBytes and LessBytes give the results of std::string_view's == and <
// (unsigned byte order).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace metricsd {

namespace bytes_detail {

inline std::uint64_t Load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint32_t Load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace bytes_detail

inline bool SameBytes(std::string_view a, std::string_view b) noexcept {
  using bytes_detail::Load32;
  using bytes_detail::Load64;
  const std::size_t n = a.size();
  if (n != b.size()) {
    return false;
  }
  const char* x = a.data();
  const char* y = b.data();
  if (n >= 8) {
    // Whole words, then the last word again (overlapping) for the tail.
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      if (Load64(x + i) != Load64(y + i)) {
        return false;
      }
    }
    return Load64(x + n - 8) == Load64(y + n - 8);
  }
  if (n >= 4) {
    return Load32(x) == Load32(y) && Load32(x + n - 4) == Load32(y + n - 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) {
      return false;
    }
  }
  return true;
}

inline bool LessBytes(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x = bytes_detail::Load64(a.data() + i);
    std::uint64_t y = bytes_detail::Load64(b.data() + i);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little) {
        x = __builtin_bswap64(x);
        y = __builtin_bswap64(y);
      }
      return x < y;
    }
  }
  for (; i < n; ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y) {
      return x < y;
    }
  }
  return a.size() < b.size();
}

// ASCII case-insensitive equality (header names, "Inf"/"NaN", media types); other bytes must
// match exactly.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    x = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
    y = (y >= 'A' && y <= 'Z') ? static_cast<char>(y - 'A' + 'a') : y;
    if (x != y) {
      return false;
    }
  }
  return true;
}

// A fast, non-cryptographic hash for in-memory tables keyed by short strings.
inline std::uint64_t HashBytes(std::string_view s) noexcept {
  using bytes_detail::Load32;
  using bytes_detail::Load64;
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  std::uint64_t h = s.size() * kMul;
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    h = (h ^ Load64(p)) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    h = (h ^ (static_cast<std::uint64_t>(Load32(p)) << 32 | Load32(p + n - 4))) * kMul;
  } else if (n > 0) {
    const std::uint64_t a = static_cast<unsigned char>(p[0]);
    const std::uint64_t b = static_cast<unsigned char>(p[n / 2]);
    const std::uint64_t c = static_cast<unsigned char>(p[n - 1]);
    h = (h ^ (a | (b << 8) | (c << 16))) * kMul;
  }
  h ^= h >> 32;
  h *= kMul;
  return h ^ (h >> 29);
}

}  // namespace metricsd
