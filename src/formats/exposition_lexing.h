// The lexical layer shared by the Prometheus text and OpenMetrics parsers: character classes,
// UTF-8 validation, the number and timestamp grammars of both formats, and the hash the
// OpenMetrics checks use for label sets. Pure functions over std::string_view; nothing here
// knows about families, samples or the differences between the formats' line structure.
//
// Internal to metricsd_formats (exposition_parser.cpp and its tests).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace metricsd::lexing {

struct CharTable {
  std::array<bool, 256> metric_start{};
  std::array<bool, 256> metric_char{};
  std::array<bool, 256> label_start{};
  std::array<bool, 256> label_char{};
};

constexpr CharTable MakeCharTable() {
  CharTable t;
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    t.label_start[c] = alpha;
    t.label_char[c] = alpha || digit;
    t.metric_start[c] = alpha || c == ':';
    t.metric_char[c] = alpha || digit || c == ':';
  }
  return t;
}

inline constexpr CharTable kChars = MakeCharTable();

inline unsigned char U(char c) noexcept { return static_cast<unsigned char>(c); }
inline bool IsBlank(char c) noexcept { return c == ' ' || c == '\t'; }
inline bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

// The end of the metric name that starts at line[pos] (pos itself when none starts there).
inline std::size_t ScanMetricName(std::string_view line, std::size_t pos) noexcept {
  if (pos >= line.size() || !kChars.metric_start[U(line[pos])]) {
    return pos;
  }
  ++pos;
  while (pos < line.size() && kChars.metric_char[U(line[pos])]) {
    ++pos;
  }
  return pos;
}

// The position of the first '"' or '\\' at or after `pos` (s.size() when there is none),
// eight bytes at a time. `seen` gets the OR of every byte before it, folded into one byte, so
// the caller knows whether any had the high bit set (non-ASCII). Inline: it runs once per
// label value.
inline std::size_t FindQuoteOrBackslash(std::string_view s, std::size_t pos,
                                        std::uint64_t& seen) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  std::uint64_t high = 0;
  while (pos + 8 <= s.size()) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + pos, sizeof word);
    const std::uint64_t quote = word ^ (kOnes * static_cast<unsigned char>('"'));
    const std::uint64_t slash = word ^ (kOnes * static_cast<unsigned char>('\\'));
    // The lowest flagged byte of this classic zero-byte test is always a true match.
    const std::uint64_t hit =
        ((quote - kOnes) & ~quote & kHighs) | ((slash - kOnes) & ~slash & kHighs);
    if (hit != 0) {
      const int byte = std::countr_zero(hit) / 8;
      if constexpr (std::endian::native == std::endian::little) {
        high |= byte == 0 ? 0 : word & (~std::uint64_t{0} >> (64 - 8 * byte));
      } else {
        high |= word;  // conservative: may send an ASCII value through full validation
      }
      pos += static_cast<std::size_t>(byte);
      seen |= (high & kHighs) != 0 ? 0x80 : 0;
      return pos;
    }
    high |= word;
    pos += 8;
  }
  while (pos < s.size() && s[pos] != '"' && s[pos] != '\\') {
    high |= static_cast<unsigned char>(s[pos]);
    ++pos;
  }
  seen |= (high & kHighs) != 0 ? 0x80 : 0;
  return pos;
}

// RFC 3629 validation (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s) noexcept;

std::size_t CountCodePoints(std::string_view s) noexcept;

// Text-format values follow Go's strconv.ParseFloat: decimal or hexadecimal, optional sign,
// case-insensitive Inf/Infinity/NaN; out-of-range values are rejected as Go rejects them.
bool ParseTextValue(std::string_view t, double& out) noexcept;

// Text-format timestamps: Go's strconv.ParseInt(s, 10, 64), in milliseconds.
bool ParseTextTimestamp(std::string_view t, std::int64_t& out_ms) noexcept;

// OpenMetrics numbers: [sign] digits with an optional fraction and exponent, no hex;
// case-insensitive Inf/Infinity with an optional sign, NaN without one.
bool ParseOmNumber(std::string_view t, double& out) noexcept;

// OpenMetrics timestamps: (fractional or exponent) seconds, converted to milliseconds.
bool ParseOmTimestamp(std::string_view t, std::int64_t& out_ms) noexcept;

// An OpenMetrics `le` or `quantile` value: a real number, or +Inf/-Inf written exactly so.
bool ParseOmBound(std::string_view t, double& out) noexcept;

// A fast 64-bit hash of a short string (label names and values: one multiply up to 16 bytes),
// `seed` chaining two strings. Not for untrusted hash tables: it only recognises label sets
// seen before, so a collision can only reject the body it came from.
std::uint64_t HashBytes(std::string_view s, std::uint64_t seed) noexcept;

// Unescapes a HELP text: `\\` and `\n` in both formats, `\"` where `quote_escape` is set
// (OpenMetrics); any other backslash stays verbatim, as both formats' consumers keep it.
void UnescapeHelp(std::string_view text, bool quote_escape, std::string& out);

}  // namespace metricsd::lexing
