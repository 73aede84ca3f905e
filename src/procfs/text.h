// Small, allocation-free tokenisers shared by the /proc parsers. Every function works on
// std::string_view over the caller's buffer and never allocates, throws or consults the
// locale. Thread-safe (pure functions).
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace metricsd::procfs {

// Returns the next line without its '\n' and advances `text` past it.
inline std::string_view NextLine(std::string_view& text) noexcept {
  const std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

inline bool IsBlank(char c) noexcept { return c == ' ' || c == '\t'; }

inline void SkipBlanks(std::string_view& text) noexcept {
  std::size_t i = 0;
  while (i < text.size() && IsBlank(text[i])) {
    ++i;
  }
  text.remove_prefix(i);
}

// Returns the next blank-separated field (empty at the end) and advances past it.
inline std::string_view NextField(std::string_view& text) noexcept {
  SkipBlanks(text);
  std::size_t i = 0;
  while (i < text.size() && !IsBlank(text[i])) {
    ++i;
  }
  std::string_view field = text.substr(0, i);
  text.remove_prefix(i);
  return field;
}

// The whole of `text` must be a decimal unsigned integer.
inline bool ParseU64(std::string_view text, std::uint64_t& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

inline bool ParseU32(std::string_view text, std::uint32_t& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// Decimal floating point ("0.25", "1234.56"), C locale by construction.
inline bool ParseDouble(std::string_view text, double& out) noexcept {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::fixed);
  return ec == std::errc() && ptr == end && !text.empty();
}

// The next blank-separated field, which must be a decimal unsigned integer (as
// ParseU64(NextField(text))), scanned once: the hot loop of every counter file.
inline bool NextU64(std::string_view& text, std::uint64_t& out) noexcept {
  constexpr std::uint64_t kMax = ~std::uint64_t{0};
  constexpr std::size_t kSafeDigits = 19;  // any 19-digit number fits in 64 bits
  SkipBlanks(text);
  const auto digit_at = [&text](std::size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(text[i])) - '0';
  };
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && i < kSafeDigits && digit_at(i) <= 9; ++i) {
    value = value * 10 + digit_at(i);
  }
  if (i == kSafeDigits && i < text.size() && digit_at(i) <= 9) {
    const unsigned digit = digit_at(i);
    if (value > kMax / 10 || (value == kMax / 10 && digit > kMax % 10)) {
      return false;
    }
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0 || (i < text.size() && !IsBlank(text[i]))) {
    return false;  // no digits, a 21st digit, or a field that goes on with something else
  }
  text.remove_prefix(i);
  out = value;
  return true;
}

// Subtraction of two cumulative counters that treats a decrease (a wrap, a reset, a kernel
// quirk such as per-CPU iowait going backwards) as "no progress" instead of a huge value.
inline std::uint64_t CounterDelta(std::uint64_t now, std::uint64_t before) noexcept {
  return now >= before ? now - before : 0;
}

}  // namespace metricsd::procfs
