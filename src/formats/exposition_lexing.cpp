#include "formats/exposition_lexing.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "core/bytes.h"

namespace metricsd::lexing {
namespace {

bool FromCharsAll(std::string_view s, double& out, std::chars_format fmt) noexcept {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out, fmt);
  return ec == std::errc() && ptr == end;
}

// Most values are plain: an integer, or digits with one decimal point, 15 digits at most. Such
// a mantissa and the power of ten are exact doubles, and one IEEE division rounds correctly,
// so this is the value from_chars would give, without its general-purpose machinery. False
// for anything else (the caller then takes the general path).
bool ParseShortDecimal(std::string_view t, double& out) noexcept {
  static constexpr std::array<double, 16> kPowersOfTen = {
      1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (t.empty() || t.size() > 16) {
    return false;
  }
  std::uint64_t mantissa = 0;
  std::size_t digits = 0;
  std::size_t point = t.size();  // index of '.', if any
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (IsDigit(c)) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
    } else if (c == '.' && point == t.size() && i > 0 && i + 1 < t.size()) {
      point = i;
    } else {
      return false;
    }
  }
  if (digits > 15) {
    return false;
  }
  const std::size_t fraction_digits = point == t.size() ? 0 : t.size() - point - 1;
  out = static_cast<double>(mantissa) / kPowersOfTen[fraction_digits];
  return true;
}

// OpenMetrics realnumber: [sign] digits with an optional fraction and exponent, no hex.
struct RealNumberShape {
  bool ok = false;
  bool has_exponent = false;
  std::size_t int_digits = 0;
};

RealNumberShape CheckRealNumber(std::string_view t) noexcept {
  RealNumberShape shape;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    ++i;
  }
  std::size_t int_start = i;
  while (i < t.size() && IsDigit(t[i])) {
    ++i;
  }
  shape.int_digits = i - int_start;
  std::size_t frac_digits = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::size_t frac_start = i;
    while (i < t.size() && IsDigit(t[i])) {
      ++i;
    }
    frac_digits = i - frac_start;
  }
  if (shape.int_digits + frac_digits == 0) {
    return shape;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    shape.has_exponent = true;
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      ++i;
    }
    std::size_t exp_start = i;
    while (i < t.size() && IsDigit(t[i])) {
      ++i;
    }
    if (i == exp_start) {
      return shape;
    }
  }
  shape.ok = i == t.size();
  return shape;
}

std::uint64_t Load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t Load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The two halves of the 128-bit product folded together: one multiply mixes 16 input bytes.
std::uint64_t MultiplyFold(std::uint64_t a, std::uint64_t b) noexcept {
  __extension__ using Wide = unsigned __int128;  // GCC and Clang on 64-bit targets
  const Wide product = static_cast<Wide>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

}  // namespace

// RFC 3629 validation (no overlongs, no surrogates, nothing above U+10FFFF), with an 8-byte
// ASCII fast path because label values are almost always ASCII.
bool IsValidUtf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, sizeof(word));
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::ptrdiff_t n = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c == 0xE0) {
      n = 2;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      n = 2;
    } else if (c == 0xED) {
      n = 2;
      hi = 0x9F;
    } else if (c == 0xF0) {
      n = 3;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      n = 3;
    } else if (c == 0xF4) {
      n = 3;
      hi = 0x8F;
    } else {
      return false;
    }
    if (end - p - 1 < n) {
      return false;
    }
    if (p[1] < lo || p[1] > hi) {
      return false;
    }
    for (std::ptrdiff_t k = 2; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) {
        return false;
      }
    }
    p += n + 1;
  }
  return true;
}

std::size_t CountCodePoints(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) {
    n += (U(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

// Values in the text format follow Go's strconv.ParseFloat: decimal or hexadecimal, optional
// sign, case-insensitive Inf/Infinity/NaN. Out-of-range values are rejected as Go rejects them.
bool ParseTextValue(std::string_view t, double& out) noexcept {
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  if (t.empty()) {
    return false;
  }
  double v = 0;
  char c = t[0];
  if (c == 'i' || c == 'I') {
    if (!EqualsIgnoreCase(t, "inf") && !EqualsIgnoreCase(t, "infinity")) {
      return false;
    }
    v = std::numeric_limits<double>::infinity();
  } else if (c == 'n' || c == 'N') {
    if (!EqualsIgnoreCase(t, "nan")) {
      return false;
    }
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  } else if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    char h = t[0];
    bool hex_start = IsDigit(h) || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F') || h == '.';
    if (!hex_start || !FromCharsAll(t, v, std::chars_format::hex)) {
      return false;
    }
  } else if (!ParseShortDecimal(t, v)) {
    if (!(IsDigit(c) || c == '.') || !FromCharsAll(t, v, std::chars_format::general)) {
      return false;
    }
  }
  out = negative ? -v : v;
  return true;
}

bool ParseOmNumber(std::string_view t, double& out) noexcept {
  if (ParseShortDecimal(t, out)) {
    return true;
  }
  std::string_view u = t;
  bool negative = false;
  bool signed_token = false;
  if (!u.empty() && (u[0] == '+' || u[0] == '-')) {
    negative = u[0] == '-';
    signed_token = true;
    u.remove_prefix(1);
  }
  if (EqualsIgnoreCase(u, "inf") || EqualsIgnoreCase(u, "infinity")) {
    out = negative ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
    return true;
  }
  if (EqualsIgnoreCase(u, "nan")) {
    out = std::numeric_limits<double>::quiet_NaN();
    return !signed_token;
  }
  if (!CheckRealNumber(t).ok) {
    return false;
  }
  double v = 0;
  if (!FromCharsAll(u, v, std::chars_format::general)) {
    return false;
  }
  out = negative ? -v : v;
  return true;
}

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits only.
bool ParseTextTimestamp(std::string_view t, std::int64_t& out) noexcept {
  if (!t.empty() && (t[0] == '+' || t[0] == '-') && (t.size() < 2 || !IsDigit(t[1]))) {
    return false;
  }
  if (!t.empty() && t[0] == '+') {
    t.remove_prefix(1);
  }
  if (t.empty()) {
    return false;
  }
  const char* end = t.data() + t.size();
  auto [ptr, ec] = std::from_chars(t.data(), end, out, 10);
  return ec == std::errc() && ptr == end;
}

// OpenMetrics timestamps are seconds. Plain decimals are converted exactly (a double would
// lose the millisecond digit of present-day times with long fractions); exponent forms go
// through a double.
bool ParseOmTimestamp(std::string_view t, std::int64_t& out_ms) noexcept {
  RealNumberShape shape = CheckRealNumber(t);
  if (!shape.ok) {
    return false;
  }
  if (!shape.has_exponent && shape.int_digits <= 15) {
    bool negative = t[0] == '-';
    if (t[0] == '+' || t[0] == '-') {
      t.remove_prefix(1);
    }
    std::int64_t seconds = 0;
    std::size_t i = 0;
    for (; i < t.size() && IsDigit(t[i]); ++i) {
      seconds = seconds * 10 + (t[i] - '0');
    }
    std::int64_t millis = 0;
    int taken = 0;
    bool round_up = false;
    if (i < t.size() && t[i] == '.') {
      for (++i; i < t.size(); ++i, ++taken) {
        if (taken < 3) {
          millis = millis * 10 + (t[i] - '0');
        } else if (taken == 3) {
          round_up = t[i] >= '5';
        }
      }
    }
    for (; taken < 3; ++taken) {
      millis *= 10;
    }
    std::int64_t ms = seconds * 1000 + millis + (round_up ? 1 : 0);
    out_ms = negative ? -ms : ms;
    return true;
  }
  double seconds = 0;
  std::string_view u = t[0] == '+' ? t.substr(1) : t;
  if (!FromCharsAll(u, seconds, std::chars_format::general)) {
    return false;
  }
  double ms = seconds * 1000.0;
  // Any float64 is a valid timestamp; those beyond int64 milliseconds (about 292 million
  // years) saturate instead of failing the whole exposition. 9.2e18 keeps llround in range.
  if (!(std::fabs(ms) < 9.2e18)) {
    out_ms = ms < 0 ? std::numeric_limits<std::int64_t>::min()
                    : std::numeric_limits<std::int64_t>::max();
    return true;
  }
  out_ms = std::llround(ms);
  return true;
}

// An OpenMetrics `le` or `quantile` value: a real number, or +Inf/-Inf written exactly so. These
// are label values that users match as strings, so the spec holds them to the canonical
// rendering of infinity, and a NaN threshold is meaningless.
bool ParseOmBound(std::string_view t, double& out) noexcept {
  if (t == "+Inf" || t == "-Inf") {
    out = t[0] == '-' ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    return true;
  }
  return CheckRealNumber(t).ok && ParseOmNumber(t, out);
}

// A fast 64-bit hash of a short string (label names and values: one multiply up to 16 bytes),
// `seed` chaining two strings. It only recognises label sets seen before: a collision can only
// reject the body it came from, so a body's author gains nothing by forcing one.
std::uint64_t HashBytes(std::string_view s, std::uint64_t seed) noexcept {
  constexpr std::uint64_t kA = 0x9E3779B97F4A7C15ULL;
  constexpr std::uint64_t kB = 0xC2B2AE3D27D4EB4FULL;
  constexpr std::uint64_t kLength = 0xD6E8FEB86659FD93ULL;  // not kB: it must not cancel below
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = seed ^ (n * kLength);
  for (; n > 16; p += 16, n -= 16) {
    h = MultiplyFold(Load64(p) ^ kA, Load64(p + 8) ^ h ^ kB);
  }
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);  // overlaps `a` below 16 bytes; the length is already in `h`
  } else if (n >= 4) {
    a = Load32(p);
    b = Load32(p + n - 4);
  } else if (n > 0) {
    a = (std::uint64_t{U(p[0])} << 16) | (std::uint64_t{U(p[n / 2])} << 8) | U(p[n - 1]);
  }
  return MultiplyFold(a ^ kA, b ^ h ^ kB);
}

void UnescapeHelp(std::string_view text, bool quote_escape, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (next == '\\' || next == 'n' || (next == '"' && quote_escape)) {
      out.push_back(next == 'n' ? '\n' : next);
      ++i;
    } else {
      // OpenMetrics' "BS normal-char" is an escaped-char that only SHOULD NOT be produced.
      out.push_back(c);
    }
  }
}

}  // namespace metricsd::lexing
