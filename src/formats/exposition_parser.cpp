#include "formats/exposition_parser.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/bytes.h"

namespace metricsd {
namespace {

enum class Mode : std::uint8_t { kText, kOpenMetrics };

// What a sample line is inside its family, from its suffix: histogram buckets need `le`,
// summary quantiles need `quantile`, and OpenMetrics gives each kind its own value rules.
enum class SampleKind : std::uint8_t {
  kPlain,
  kBucket,
  kQuantile,
  kTotal,
  kCreated,
  kCount,
  kSum,
  kGaugeCount,
  kGaugeSum,
  kInfo,
};

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

constexpr CharTable kChars = MakeCharTable();

inline unsigned char U(char c) noexcept { return static_cast<unsigned char>(c); }
inline bool IsBlank(char c) noexcept { return c == ' ' || c == '\t'; }
inline bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

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

// The position of the first '"' or '\\' at or after `pos` (s.size() when there is none),
// eight bytes at a time. `seen` gets the OR of every byte before it, folded into one byte, so
// the caller knows whether any had the high bit set (non-ASCII).
std::size_t FindQuoteOrBackslash(std::string_view s, std::size_t pos,
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

std::size_t CountCodePoints(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) {
    n += (U(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

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

// A set of 64-bit hashes (open addressing, 0 marks a free slot) for the label sets one
// OpenMetrics family has seen. It grows with the family (two to four slots per label set);
// Reset clears a small table and shrinks a big one, so that many small families after a big
// one do not each pay for clearing it.
class HashSet {
 public:
  void Reset() {
    if (used_ == 0) {
      return;
    }
    if (slots_.size() > kKeptSlots) {
      slots_.assign(kInitialSlots, 0);
    } else {
      std::fill(slots_.begin(), slots_.end(), 0);
    }
    used_ = 0;
  }

  // Adds `h`; false when it was there already.
  bool Insert(std::uint64_t h) {
    h = h == 0 ? 1 : h;
    if ((used_ + 1) * 2 > slots_.size()) {
      std::vector<std::uint64_t> old(std::max(kInitialSlots, slots_.size() * 2), 0);
      old.swap(slots_);
      used_ = 0;
      for (std::uint64_t kept : old) {
        if (kept != 0) {
          Place(kept);
        }
      }
    }
    return Place(h);
  }

 private:
  static constexpr std::size_t kInitialSlots = 64;  // a power of two, as the mask needs
  static constexpr std::size_t kKeptSlots = 256;    // larger tables shrink on Reset

  bool Place(std::uint64_t h) noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = h & mask;
    while (slots_[i] != 0) {
      if (slots_[i] == h) {
        return false;
      }
      i = (i + 1) & mask;
    }
    ++used_;
    slots_[i] = h;
    return true;
  }

  std::vector<std::uint64_t> slots_;  // empty until the first Insert
  std::size_t used_ = 0;
};

// The suffixes a typed family gives its samples. Returns whether `sample` belongs to
// `family` of `type`, and what kind of sample it is.
bool Belongs(Mode mode, MetricType type, std::string_view family, std::string_view sample,
             SampleKind& kind) noexcept {
  if (sample.size() < family.size() || sample.compare(0, family.size(), family) != 0) {
    return false;
  }
  std::string_view rest = sample.substr(family.size());
  const bool om = mode == Mode::kOpenMetrics;
  auto is = [&](std::string_view suffix, SampleKind suffix_kind) {
    kind = suffix_kind;
    return rest == suffix;
  };
  kind = SampleKind::kPlain;
  switch (type) {
    case MetricType::kCounter:
      return om ? (is("_total", SampleKind::kTotal) || is("_created", SampleKind::kCreated))
                : rest.empty();
    case MetricType::kGauge:
    case MetricType::kUntyped:
    case MetricType::kStateSet:
      return rest.empty();
    case MetricType::kInfo:
      return is("_info", SampleKind::kInfo);
    case MetricType::kHistogram:
      return is("_bucket", SampleKind::kBucket) || is("_count", SampleKind::kCount) ||
             is("_sum", SampleKind::kSum) || (om && is("_created", SampleKind::kCreated));
    case MetricType::kGaugeHistogram:
      return is("_bucket", SampleKind::kBucket) || is("_gcount", SampleKind::kGaugeCount) ||
             is("_gsum", SampleKind::kGaugeSum);
    case MetricType::kSummary:
      return is("", SampleKind::kQuantile) || is("_count", SampleKind::kCount) ||
             is("_sum", SampleKind::kSum) || (om && is("_created", SampleKind::kCreated));
  }
  return false;
}

constexpr std::array<std::string_view, 8> kSuffixes = {"_bucket",  "_count",  "_sum",  "_total",
                                                       "_created", "_gcount", "_gsum", "_info"};

// The family name a suffixed sample name would belong to, or empty.
std::string_view StripSuffix(std::string_view name) noexcept {
  for (std::string_view suffix : kSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return {};
}

std::optional<MetricType> TypeFromWord(Mode mode, std::string_view word) noexcept {
  if (word == "counter") {
    return MetricType::kCounter;
  }
  if (word == "gauge") {
    return MetricType::kGauge;
  }
  if (word == "histogram") {
    return MetricType::kHistogram;
  }
  if (word == "summary") {
    return MetricType::kSummary;
  }
  if (mode == Mode::kText) {
    if (word == "untyped") {
      return MetricType::kUntyped;
    }
    return std::nullopt;
  }
  if (word == "unknown") {
    return MetricType::kUntyped;
  }
  if (word == "gaugehistogram") {
    return MetricType::kGaugeHistogram;
  }
  if (word == "stateset") {
    return MetricType::kStateSet;
  }
  if (word == "info") {
    return MetricType::kInfo;
  }
  return std::nullopt;
}

// Values point into the body or into the parser's scratch buffer.
using RawLabel = LabelView;

class Parser {
 public:
  // Samples go to `visitor` when it is set, else into families appended to `out`.
  Parser(Mode mode, std::int64_t default_timestamp_ms, std::vector<MetricFamily>& out,
         SampleVisitor* visitor = nullptr)
      : mode_(mode),
        default_timestamp_ms_(default_timestamp_ms),
        out_(out),
        first_(out.size()),
        visitor_(visitor) {}

  // Text: always true. OpenMetrics: false at the first violation (error() says why).
  bool Run(std::string_view body, ParseStats& stats) {
    std::size_t line_no = 0;
    bool saw_eof = false;
    while (!body.empty()) {
      std::string_view line;
      const void* nl = std::memchr(body.data(), '\n', body.size());
      if (nl == nullptr) {
        line = body;
        body = {};
      } else {
        std::size_t len = static_cast<const char*>(nl) - body.data();
        line = body.substr(0, len);
        body.remove_prefix(len + 1);
      }
      ++line_no;
      const char* reason = nullptr;
      if (mode_ == Mode::kOpenMetrics) {
        if (saw_eof) {
          reason = "content after # EOF";
        } else if (line == "# EOF") {
          saw_eof = true;
          reason = FinishPoint();
        } else if (line.empty()) {
          reason = "empty line";
        } else if (line[0] == '#') {
          reason = OpenMetricsDescriptor(line);
        } else {
          reason = SampleLine(line);
        }
      } else {
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        reason = TextLine(line);
      }
      if (reason != nullptr) {
        ++stats.invalid_lines;
        if (stats.first_error.empty() || mode_ == Mode::kOpenMetrics) {
          error_ = "line " + std::to_string(line_no) + ": " + reason;
          if (stats.first_error.empty()) {
            stats.first_error = error_;
          }
        }
        if (mode_ == Mode::kOpenMetrics) {
          out_.resize(first_);
          return false;
        }
      }
    }
    if (mode_ == Mode::kOpenMetrics && !saw_eof) {
      ++stats.invalid_lines;
      error_ = "missing # EOF";
      if (stats.first_error.empty()) {
        stats.first_error = error_;
      }
      out_.resize(first_);
      return false;
    }
    stats.samples += samples_;
    DropEmptyFamilies();
    return true;
  }

  const std::string& error() const noexcept { return error_; }

 private:
  struct FamilyState {
    std::string_view name;  // points into the body
    std::string help;       // visitor mode only (families in `out_` hold their own)
    std::size_t out_index = 0;
    MetricType type = MetricType::kUntyped;
    bool has_type = false;
    bool has_help = false;
    bool has_unit = false;
    bool has_nonempty_unit = false;  // an empty UNIT counts as none (OpenMetrics)
    bool has_samples = false;
  };

  // The OpenMetrics MetricPoint being read: consecutive samples of one family whose label sets
  // agree apart from le/quantile/the state label, and whose timestamps agree. Families cannot
  // interleave, so one of these (plus the set of label sets the family has left) is all the
  // cross-sample state the checks need.
  struct HistogramPoint {
    std::size_t buckets = 0;
    double last_le = 0;
    double last_bucket = 0;
    bool negative_le = false;
    bool has_inf = false;
    double inf_bucket = 0;
    bool has_count = false;
    double count = 0;
    bool has_sum = false;
    double sum = 0;
  };
  struct PointState {
    MetricType type = MetricType::kUntyped;
    std::uint64_t group = 0;  // GroupHash of the point's labels
    std::int64_t timestamp_ms = 0;
    bool has_timestamp = false;
    HistogramPoint histogram;  // histograms and gauge histograms only
  };

  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  void SkipBlanks(std::string_view line, std::size_t& pos) const noexcept {
    while (pos < line.size() && IsBlank(line[pos])) {
      ++pos;
    }
  }

  static std::size_t ScanMetricName(std::string_view line, std::size_t pos) noexcept {
    if (pos >= line.size() || !kChars.metric_start[U(line[pos])]) {
      return pos;
    }
    ++pos;
    while (pos < line.size() && kChars.metric_char[U(line[pos])]) {
      ++pos;
    }
    return pos;
  }

  std::size_t NewFamily(std::string_view name, MetricType type) {
    FamilyState state;
    state.name = name;
    state.type = type;
    if (visitor_ == nullptr) {
      state.out_index = out_.size();
      MetricFamily& family = out_.emplace_back();
      family.name.assign(name);
      family.type = type;
    }
    std::size_t index = families_.size();
    families_.push_back(state);
    by_name_.emplace(name, index);
    return index;
  }

  std::size_t Find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? kNone : it->second;
  }

  // OpenMetrics: a family's names must not collide with another family's sample names.
  bool ClashesWithOthers(std::string_view name, MetricType type, std::size_t self) const {
    std::string_view base = StripSuffix(name);
    if (!base.empty()) {
      std::size_t other = Find(base);
      SampleKind kind;
      if (other != kNone && other != self &&
          Belongs(mode_, families_[other].type, families_[other].name, name, kind)) {
        return true;
      }
    }
    std::string candidate;
    for (std::string_view suffix : kSuffixes) {
      candidate.assign(name);
      candidate.append(suffix);
      SampleKind kind;
      if (Belongs(mode_, type, name, candidate, kind)) {
        std::size_t other = Find(candidate);
        if (other != kNone && other != self) {
          return true;
        }
      }
    }
    return false;
  }

  void DropEmptyFamilies() {
    auto begin = out_.begin() + static_cast<std::ptrdiff_t>(first_);
    out_.erase(
        std::remove_if(begin, out_.end(), [](const MetricFamily& f) { return f.samples.empty(); }),
        out_.end());
  }

  const char* TextLine(std::string_view line) {
    std::size_t pos = 0;
    SkipBlanks(line, pos);
    if (pos == line.size()) {
      return nullptr;
    }
    if (line[pos] != '#') {
      return SampleLine(line.substr(pos));
    }
    ++pos;
    SkipBlanks(line, pos);
    std::size_t word_start = pos;
    while (pos < line.size() && !IsBlank(line[pos])) {
      ++pos;
    }
    std::string_view word = line.substr(word_start, pos - word_start);
    bool is_help = word == "HELP";
    if (!is_help && word != "TYPE") {
      return nullptr;  // an ordinary comment
    }
    SkipBlanks(line, pos);
    std::size_t name_start = pos;
    pos = ScanMetricName(line, pos);
    std::string_view name = line.substr(name_start, pos - name_start);
    if (name.empty() || (pos < line.size() && !IsBlank(line[pos]))) {
      return "invalid metric name in HELP or TYPE";
    }
    SkipBlanks(line, pos);
    std::string_view rest = line.substr(pos);
    if (is_help) {
      return Help(name, rest);
    }
    std::size_t end = rest.size();
    while (end > 0 && IsBlank(rest[end - 1])) {
      --end;
    }
    return Type(name, rest.substr(0, end));
  }

  const char* OpenMetricsDescriptor(std::string_view line) {
    std::string_view rest;
    char which = 0;
    for (std::string_view prefix : {"# TYPE ", "# HELP ", "# UNIT "}) {
      if (line.starts_with(prefix)) {
        rest = line.substr(prefix.size());
        which = prefix[2];
        break;
      }
    }
    if (which == 0) {
      return "comment that is not TYPE, HELP, UNIT or EOF";
    }
    std::size_t pos = ScanMetricName(rest, 0);
    std::string_view name = rest.substr(0, pos);
    if (name.empty()) {
      return "invalid metric name in descriptor";
    }
    std::string_view value;
    if (pos < rest.size()) {
      if (rest[pos] != ' ') {
        return "invalid metric name in descriptor";
      }
      value = rest.substr(pos + 1);
    } else if (which != 'T') {
      return "HELP or UNIT without a space after the metric name";  // "# HELP a " is the empty form
    }
    if (which == 'T') {
      return Type(name, value);
    }
    if (which == 'H') {
      return Help(name, value);
    }
    return Unit(name, value);
  }

  // The family a descriptor line talks about, created if needed.
  const char* DescriptorFamily(std::string_view name, std::size_t& index) {
    if (mode_ == Mode::kText) {
      index = Find(name);
      if (index == kNone) {
        index = NewFamily(name, MetricType::kUntyped);
      }
      return nullptr;
    }
    if (current_ != kNone && families_[current_].name == name) {
      if (families_[current_].has_samples) {
        return "metadata after the family's samples";
      }
      index = current_;
      return nullptr;
    }
    if (Find(name) != kNone) {
      return "family appears twice (families must not be interleaved)";
    }
    if (ClashesWithOthers(name, MetricType::kUntyped, kNone)) {
      return "family name clashes with another family's sample names";
    }
    index = NewFamily(name, MetricType::kUntyped);
    current_ = index;
    return nullptr;
  }

  const char* Type(std::string_view name, std::string_view word) {
    std::optional<MetricType> type = TypeFromWord(mode_, word);
    if (!type) {
      return "unknown metric type";
    }
    std::size_t index = kNone;
    if (const char* reason = DescriptorFamily(name, index)) {
      return reason;
    }
    FamilyState& family = families_[index];
    if (family.has_type) {
      return "second TYPE line for the family";
    }
    if (family.has_samples) {
      return "TYPE line after the family's samples";
    }
    if (mode_ == Mode::kOpenMetrics && ClashesWithOthers(name, *type, index)) {
      return "family name clashes with another family's sample names";
    }
    if (family.has_nonempty_unit && !CanHaveUnit(*type)) {
      return "info and stateset families have no unit";
    }
    family.has_type = true;
    family.type = *type;
    if (visitor_ == nullptr) {
      out_[family.out_index].type = *type;
    }
    return nullptr;
  }

  const char* Help(std::string_view name, std::string_view text) {
    std::string help;
    help.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c != '\\') {
        help.push_back(c);
        continue;
      }
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next == '\\' || next == 'n' || (next == '"' && mode_ == Mode::kOpenMetrics)) {
        help.push_back(next == 'n' ? '\n' : next);
        ++i;
      } else {
        // Both formats keep an unknown escape verbatim (OpenMetrics: "BS normal-char" is an
        // escaped-char that only SHOULD NOT be produced).
        help.push_back(c);
      }
    }
    if (!IsValidUtf8(help)) {
      return "HELP text is not valid UTF-8";
    }
    std::size_t index = kNone;
    if (const char* reason = DescriptorFamily(name, index)) {
      return reason;
    }
    FamilyState& family = families_[index];
    if (family.has_help) {
      return "second HELP line for the family";
    }
    family.has_help = true;
    if (visitor_ == nullptr) {
      out_[family.out_index].help = std::move(help);
    } else {
      family.help = std::move(help);
    }
    return nullptr;
  }

  const char* Unit(std::string_view name, std::string_view unit) {
    for (char c : unit) {
      if (!kChars.metric_char[U(c)]) {
        return "invalid character in UNIT";
      }
    }
    if (!unit.empty() && !(name.size() > unit.size() + 1 && name.ends_with(unit) &&
                           name[name.size() - unit.size() - 1] == '_')) {
      return "UNIT is not a suffix of the family name";
    }
    std::size_t index = kNone;
    if (const char* reason = DescriptorFamily(name, index)) {
      return reason;
    }
    FamilyState& family = families_[index];
    if (family.has_unit) {
      return "second UNIT line for the family";
    }
    if (!unit.empty() && !CanHaveUnit(family.type)) {
      return "info and stateset families have no unit";
    }
    family.has_unit = true;
    family.has_nonempty_unit = !unit.empty();
    return nullptr;
  }

  // Parses `{...}` starting at line[pos] == '{' into `labels`; pos ends after '}'.
  const char* Labels(std::string_view line, std::size_t& pos, std::vector<RawLabel>& labels) {
    const bool om = mode_ == Mode::kOpenMetrics;
    const std::size_t size = line.size();
    labels.clear();
    ++pos;
    if (!om) {
      SkipBlanks(line, pos);
    }
    if (pos < size && line[pos] == '}') {
      ++pos;
      return nullptr;
    }
    while (true) {
      std::size_t name_start = pos;
      if (pos >= size || !kChars.label_start[U(line[pos])]) {
        return "invalid label name";
      }
      ++pos;
      while (pos < size && kChars.label_char[U(line[pos])]) {
        ++pos;
      }
      std::string_view name = line.substr(name_start, pos - name_start);
      if (!om) {
        SkipBlanks(line, pos);
      }
      if (pos >= size || line[pos] != '=') {
        return "expected '=' after label name";
      }
      ++pos;
      if (!om) {
        SkipBlanks(line, pos);
      }
      if (pos >= size || line[pos] != '"') {
        return "expected '\"' to open a label value";
      }
      ++pos;
      std::size_t value_start = pos;
      std::uint64_t seen_bytes = 0;
      pos = FindQuoteOrBackslash(line, pos, seen_bytes);
      if (pos >= size) {
        return "unterminated label value";
      }
      std::string_view value;
      bool ascii = false;
      if (line[pos] == '"') {
        value = line.substr(value_start, pos - value_start);
        ascii = (seen_bytes & 0x80) == 0;  // no byte with the high bit: valid UTF-8 already
        ++pos;
      } else {
        // Escapes: unescape into scratch_, reserved by the caller to the line's size so the
        // views taken here stay valid.
        std::size_t offset = scratch_.size();
        scratch_.append(line.data() + value_start, pos - value_start);
        while (true) {
          if (pos >= size) {
            return "unterminated label value";
          }
          char c = line[pos];
          if (c == '"') {
            ++pos;
            break;
          }
          if (c == '\\') {
            if (pos + 1 >= size) {
              return "unterminated label value";
            }
            char e = line[pos + 1];
            if (e == '\\' || e == '"') {
              scratch_.push_back(e);
            } else if (e == 'n') {
              scratch_.push_back('\n');
            } else {
              // Unknown escapes stay verbatim: the Prometheus scraper does so, and OpenMetrics'
              // ABNF allows "BS normal-char" (it only SHOULD NOT be produced).
              scratch_.push_back('\\');
              scratch_.push_back(e);
            }
            pos += 2;
            continue;
          }
          std::size_t run = pos;
          while (run < size && line[run] != '"' && line[run] != '\\') {
            ++run;
          }
          scratch_.append(line.data() + pos, run - pos);
          pos = run;
        }
        value = std::string_view(scratch_).substr(offset);
      }
      if (!ascii && !IsValidUtf8(value)) {
        return "label value is not valid UTF-8";
      }
      labels.push_back(RawLabel{name, value});
      if (!om) {
        SkipBlanks(line, pos);
      }
      if (pos >= size) {
        return "unterminated label set";
      }
      if (line[pos] == '}') {
        ++pos;
        return nullptr;
      }
      if (line[pos] != ',') {
        return "expected ',' or '}' in label set";
      }
      ++pos;
      if (!om) {
        SkipBlanks(line, pos);
        if (pos < size && line[pos] == '}') {
          ++pos;  // the text format allows a trailing comma
          return nullptr;
        }
      }
    }
  }

  // ` # {labels} value [timestamp]` after a sample; pos is at '#'. Checked, then dropped.
  const char* Exemplar(std::string_view line, std::size_t pos) {
    const bool om = mode_ == Mode::kOpenMetrics;
    ++pos;
    if (om) {
      if (pos >= line.size() || line[pos] != ' ') {
        return "invalid exemplar";
      }
      ++pos;
    } else {
      SkipBlanks(line, pos);
    }
    if (pos >= line.size() || line[pos] != '{') {
      return "invalid exemplar";
    }
    if (const char* reason = Labels(line, pos, exemplar_labels_)) {
      return reason;
    }
    if (om) {
      std::size_t length = 0;
      for (const RawLabel& label : exemplar_labels_) {
        length += CountCodePoints(label.name) + CountCodePoints(label.value);
      }
      if (length > 128) {
        return "exemplar label set longer than 128 characters";
      }
    }
    auto token = [&](std::string_view& out) {
      if (om) {
        if (pos >= line.size() || line[pos] != ' ') {
          return false;
        }
        ++pos;
      } else {
        SkipBlanks(line, pos);
      }
      std::size_t start = pos;
      while (pos < line.size() && !IsBlank(line[pos])) {
        ++pos;
      }
      out = line.substr(start, pos - start);
      return !out.empty();
    };
    std::string_view value_token;
    double value = 0;
    if (!token(value_token) ||
        !(om ? ParseOmNumber(value_token, value) : ParseTextValue(value_token, value))) {
      return "invalid exemplar value";
    }
    if (!om) {
      SkipBlanks(line, pos);
    }
    if (pos < line.size()) {
      std::string_view ts_token;
      double ts = 0;
      std::int64_t ts_ms = 0;
      if (!token(ts_token) ||
          !(om ? ParseOmTimestamp(ts_token, ts_ms) : ParseTextValue(ts_token, ts))) {
        return "invalid exemplar timestamp";
      }
      if (!om) {
        SkipBlanks(line, pos);
      }
      if (pos < line.size()) {
        return "unexpected text after exemplar";
      }
    }
    return nullptr;
  }

  const char* SampleLine(std::string_view line) {
    const bool om = mode_ == Mode::kOpenMetrics;
    if (scratch_.capacity() < line.size()) {
      scratch_.reserve(line.size());
    }
    scratch_.clear();
    // Consecutive samples mostly share their name: when this line starts with the previous
    // sample's (valid) name and the name ends there, the scan would stop at the same place.
    std::size_t pos = 0;
    const std::size_t last = last_name_.size();
    if (last > 0 && line.size() > last && SameBytes(line.substr(0, last), last_name_) &&
        !kChars.metric_char[U(line[last])]) {
      pos = last;
    } else {
      pos = ScanMetricName(line, 0);
    }
    std::string_view name = line.substr(0, pos);
    last_name_ = name;
    if (name.empty()) {
      return "invalid metric name";
    }
    labels_.clear();
    if (!om) {
      if (pos < line.size() && !IsBlank(line[pos]) && line[pos] != '{') {
        return "invalid character in metric name";
      }
      SkipBlanks(line, pos);
    }
    if (pos < line.size() && line[pos] == '{') {
      if (const char* reason = Labels(line, pos, labels_)) {
        return reason;
      }
    }
    if (om) {
      if (pos >= line.size() || line[pos] != ' ') {
        return "expected a single space before the value";
      }
      ++pos;
    } else {
      SkipBlanks(line, pos);
    }
    std::size_t value_start = pos;
    while (pos < line.size() && (om ? line[pos] != ' ' : !IsBlank(line[pos]))) {
      ++pos;
    }
    std::string_view value_token = line.substr(value_start, pos - value_start);
    if (value_token.empty()) {
      return "missing value";
    }
    double value = 0;
    if (!(om ? ParseOmNumber(value_token, value) : ParseTextValue(value_token, value))) {
      return "invalid value";
    }
    std::int64_t timestamp_ms = default_timestamp_ms_;
    bool has_timestamp = false;
    bool has_exemplar = false;
    if (!om) {
      SkipBlanks(line, pos);
      if (pos < line.size() && line[pos] != '#') {
        std::size_t ts_start = pos;
        while (pos < line.size() && !IsBlank(line[pos])) {
          ++pos;
        }
        if (!ParseTextTimestamp(line.substr(ts_start, pos - ts_start), timestamp_ms)) {
          return "invalid timestamp";
        }
        SkipBlanks(line, pos);
      }
      if (pos < line.size()) {
        if (line[pos] != '#') {
          return "unexpected text after the sample";
        }
        if (const char* reason = Exemplar(line, pos)) {
          return reason;
        }
      }
    } else if (pos < line.size()) {
      ++pos;  // the single space, guaranteed by the value scan
      if (pos < line.size() && line[pos] != '#') {
        std::size_t ts_start = pos;
        while (pos < line.size() && line[pos] != ' ') {
          ++pos;
        }
        if (!ParseOmTimestamp(line.substr(ts_start, pos - ts_start), timestamp_ms)) {
          return "invalid timestamp";
        }
        has_timestamp = true;
        if (pos < line.size()) {
          ++pos;
          if (pos >= line.size() || line[pos] != '#') {
            return "unexpected text after the timestamp";
          }
        }
      }
      if (pos < line.size()) {
        if (const char* reason = Exemplar(line, pos)) {
          return reason;
        }
        has_exemplar = true;
      } else if (line.back() == ' ') {
        return "trailing space";
      }
    }
    return AddSample(name, value, timestamp_ms, has_timestamp, has_exemplar);
  }

  // Finds (or, where the format allows it, creates) the family of a sample.
  const char* ResolveFamily(std::string_view name, std::size_t& index, SampleKind& kind) {
    if (current_ != kNone) {
      const FamilyState& family = families_[current_];
      if (Belongs(mode_, family.type, family.name, name, kind)) {
        index = current_;
        return nullptr;
      }
    }
    std::size_t exact = Find(name);
    std::string_view base = StripSuffix(name);
    std::size_t by_base = base.empty() ? kNone : Find(base);
    if (mode_ == Mode::kText) {
      if (exact != kNone &&
          Belongs(mode_, families_[exact].type, families_[exact].name, name, kind)) {
        index = exact;
      } else if (by_base != kNone &&
                 Belongs(mode_, families_[by_base].type, families_[by_base].name, name, kind)) {
        index = by_base;
      } else if (exact != kNone) {
        return "sample name does not fit its family's type";
      } else {
        index = NewFamily(name, MetricType::kUntyped);
        kind = SampleKind::kPlain;
      }
      current_ = index;
      return nullptr;
    }
    // OpenMetrics: a sample outside the current family starts a new, untyped family; a name
    // that was already used means interleaved families, which the spec forbids.
    if (exact != kNone) {
      return exact == current_ ? "sample name does not fit its family's type"
                               : "family appears twice (families must not be interleaved)";
    }
    if (by_base != kNone &&
        Belongs(mode_, families_[by_base].type, families_[by_base].name, name, kind)) {
      return "family appears twice (families must not be interleaved)";
    }
    index = NewFamily(name, MetricType::kUntyped);
    kind = SampleKind::kPlain;
    current_ = index;
    return nullptr;
  }

  // The OpenMetrics rules that a sample's value, its exemplar and its place among the family's
  // earlier samples must follow (spec sections "Metric types" and "MetricPoint").
  const char* CheckOpenMetricsSample(std::size_t index, SampleKind kind, double bound, double value,
                                     std::int64_t timestamp_ms, bool has_timestamp,
                                     bool has_exemplar) {
    const FamilyState& family = families_[index];
    const MetricType type = family.type;
    if (has_exemplar && kind != SampleKind::kTotal && kind != SampleKind::kBucket) {
      return "exemplar on a sample other than a counter total or a histogram bucket";
    }
    // Totals, buckets, counts and (histogram, summary) sums are counters semantically.
    switch (kind) {
      case SampleKind::kTotal:
      case SampleKind::kBucket:
      case SampleKind::kCount:
      case SampleKind::kGaugeCount:
      case SampleKind::kSum:
        if (!(value >= 0)) {
          return "negative or NaN value in a total, bucket, count or sum";
        }
        break;
      case SampleKind::kGaugeSum:
        if (std::isnan(value)) {
          return "NaN _gsum";
        }
        break;
      case SampleKind::kQuantile:
        if (value < 0) {
          return "negative quantile value";
        }
        if (!(bound >= 0 && bound <= 1)) {
          return "quantile outside [0, 1]";
        }
        break;
      case SampleKind::kInfo:
        if (value != 1) {
          return "info value is not 1";
        }
        break;
      case SampleKind::kPlain:
        if (type == MetricType::kStateSet) {
          if (value != 0 && value != 1) {
            return "stateset value is not 0 or 1";
          }
          if (FindLabel(family.name) == nullptr) {
            return "stateset sample without a label named after its family";
          }
        }
        break;
      case SampleKind::kCreated:
        break;
    }

    const bool histogram = type == MetricType::kHistogram || type == MetricType::kGaugeHistogram;
    std::string_view point_label;  // the label that tells a point's samples apart
    if (histogram) {
      point_label = "le";
    } else if (type == MetricType::kSummary) {
      point_label = "quantile";
    } else if (type == MetricType::kStateSet) {
      point_label = family.name;
    }
    const std::uint64_t group = GroupHash(point_label);
    if (index != point_family_) {
      if (const char* reason = FinishPoint()) {
        return reason;
      }
      left_groups_.Reset();
      left_groups_.Insert(group);
      StartPoint(index, group, timestamp_ms, has_timestamp);
    } else if (group != point_.group) {
      if (const char* reason = FinishPoint()) {
        return reason;
      }
      // The set holds every label set of the family so far, the current one included.
      if (!left_groups_.Insert(group)) {
        return "a label set comes back after others (Metrics or MetricPoints interleaved)";
      }
      StartPoint(index, group, timestamp_ms, has_timestamp);
    } else if (has_timestamp != point_.has_timestamp) {
      return "timestamp on some samples of a Metric but not on others";
    } else if (has_timestamp && timestamp_ms < point_.timestamp_ms) {
      return "timestamps of a Metric go backwards";
    } else if (has_timestamp && timestamp_ms > point_.timestamp_ms) {
      // A later MetricPoint of the same Metric.
      if (const char* reason = FinishPoint()) {
        return reason;
      }
      StartPoint(index, group, timestamp_ms, has_timestamp);
    }
    if (!histogram) {
      return nullptr;
    }
    HistogramPoint& point = point_.histogram;
    switch (kind) {
      case SampleKind::kBucket:
        if (point.buckets > 0 && !(bound > point.last_le)) {
          return "histogram buckets not in increasing le order";
        }
        if (point.buckets > 0 && value < point.last_bucket) {
          return "histogram bucket values are not cumulative";
        }
        ++point.buckets;
        point.last_le = bound;
        point.last_bucket = value;
        point.negative_le = point.negative_le || bound < 0;
        if (bound == std::numeric_limits<double>::infinity()) {
          point.has_inf = true;
          point.inf_bucket = value;
        }
        break;
      case SampleKind::kCount:
      case SampleKind::kGaugeCount:
        point.has_count = true;
        point.count = value;
        break;
      case SampleKind::kSum:
      case SampleKind::kGaugeSum:
        point.has_sum = true;
        point.sum = value;
        break;
      default:
        break;
    }
    return nullptr;
  }

  void StartPoint(std::size_t index, std::uint64_t group, std::int64_t timestamp_ms,
                  bool has_timestamp) noexcept {
    point_family_ = index;
    point_.type = families_[index].type;
    point_.group = group;
    point_.timestamp_ms = timestamp_ms;
    point_.has_timestamp = has_timestamp;
    if (point_.type == MetricType::kHistogram || point_.type == MetricType::kGaugeHistogram) {
      point_.histogram = HistogramPoint{};
    }
  }

  // The histogram rules that need the whole MetricPoint, checked when it ends.
  const char* FinishPoint() const noexcept {
    if (point_family_ == kNone) {
      return nullptr;
    }
    const bool gauge = point_.type == MetricType::kGaugeHistogram;
    if (point_.type != MetricType::kHistogram && !gauge) {
      return nullptr;
    }
    const HistogramPoint& point = point_.histogram;
    if (!point.has_inf) {
      return "histogram MetricPoint without a +Inf bucket";
    }
    if (point.has_count != point.has_sum) {
      return gauge ? "gauge histogram has only one of _gcount and _gsum"
                   : "histogram has only one of _count and _sum";
    }
    if (point.has_count && point.count != point.inf_bucket) {
      return "histogram count differs from its +Inf bucket";
    }
    if (!gauge && point.has_sum && point.negative_le) {
      return "histogram with negative buckets has a _sum";  // it would not be a counter
    }
    if (gauge && point.has_sum && point.sum < 0 && !point.negative_le) {
      return "negative _gsum without negative buckets";
    }
    return nullptr;
  }

  // A hash of the sample's label set without empty values (they mean "no label") and without
  // `skip`, the label that varies within one MetricPoint. labels_ is sorted, so equal sets
  // hash equally. A collision (odds about n^2 / 2^64 for n label sets in a family) could only
  // make a valid body look interleaved.
  std::uint64_t GroupHash(std::string_view skip) {
    std::uint64_t h = 0;
    for (const RawLabel& label : labels_) {
      if (label.value.empty() || SameBytes(label.name, skip)) {
        continue;
      }
      // A label hashes as the text `name="value` (unescaped). Unless its value had escapes,
      // that text is where the label was read from, so one call covers it. Each label hashes
      // on its own, so the CPU overlaps them; the rotation keeps their order.
      const char* name_end = label.name.data() + label.name.size();
      std::string_view text;
      if (label.value.data() == name_end + 2) {
        text = std::string_view(label.name.data(), label.name.size() + 2 + label.value.size());
      } else {
        hash_text_.assign(label.name);
        hash_text_.append("=\"");
        hash_text_.append(label.value);
        text = hash_text_;
      }
      h = std::rotl(h, 19) ^ HashBytes(text, 0);
    }
    return h;
  }

  static bool CanHaveUnit(MetricType type) noexcept {
    return type != MetricType::kInfo && type != MetricType::kStateSet;
  }

  const RawLabel* FindLabel(std::string_view name) const noexcept {
    for (const RawLabel& label : labels_) {
      if (label.name == name) {
        return &label;
      }
    }
    return nullptr;
  }

  const char* AddSample(std::string_view name, double value, std::int64_t timestamp_ms,
                        bool has_timestamp, bool has_exemplar) {
    auto by_name = [](const RawLabel& a, const RawLabel& b) { return LessBytes(a.name, b.name); };
    if (!std::is_sorted(labels_.begin(), labels_.end(), by_name)) {
      std::sort(labels_.begin(), labels_.end(), by_name);
    }
    std::size_t non_empty = 0;
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (i > 0 && SameBytes(labels_[i].name, labels_[i - 1].name)) {
        return "duplicate label name";
      }
      if (SameBytes(labels_[i].name, "__name__")) {
        return "reserved label name __name__";
      }
      non_empty += labels_[i].value.empty() ? 0 : 1;
    }
    std::size_t index = kNone;
    SampleKind kind = SampleKind::kPlain;
    if (const char* reason = ResolveFamily(name, index, kind)) {
      return reason;
    }
    double bound = 0;
    if (kind == SampleKind::kBucket || kind == SampleKind::kQuantile) {
      const RawLabel* label = FindLabel(kind == SampleKind::kBucket ? "le" : "quantile");
      if (label == nullptr) {
        return kind == SampleKind::kBucket ? "histogram bucket without le label"
                                           : "summary quantile without quantile label";
      }
      bool ok = mode_ == Mode::kOpenMetrics ? ParseOmBound(label->value, bound)
                                            : ParseTextValue(label->value, bound);
      if (!ok) {
        return kind == SampleKind::kBucket ? "invalid le value" : "invalid quantile value";
      }
    }
    if (mode_ == Mode::kOpenMetrics) {
      if (const char* reason = CheckOpenMetricsSample(index, kind, bound, value, timestamp_ms,
                                                      has_timestamp, has_exemplar)) {
        return reason;
      }
    }
    FamilyState& family = families_[index];
    family.has_samples = true;
    if (visitor_ != nullptr) {
      // Empty values mean "no label": compact them away in place.
      std::size_t kept = 0;
      for (const RawLabel& label : labels_) {
        if (!label.value.empty()) {
          labels_[kept++] = label;
        }
      }
      labels_.resize(kept);
      visitor_->OnSample(FamilyView{family.name, family.help, family.type}, name, labels_, value,
                         timestamp_ms);
      ++samples_;
      return nullptr;
    }
    Sample& sample = out_[family.out_index].samples.emplace_back();
    sample.name.assign(name);
    sample.value = value;
    sample.timestamp_ms = timestamp_ms;
    sample.labels.reserve(non_empty);
    for (const RawLabel& label : labels_) {
      if (!label.value.empty()) {
        sample.labels.push_back(Label{std::string(label.name), std::string(label.value)});
      }
    }
    ++samples_;
    return nullptr;
  }

  const Mode mode_;
  const std::int64_t default_timestamp_ms_;
  std::vector<MetricFamily>& out_;
  const std::size_t first_;  // families before this index were there before the call
  SampleVisitor* const visitor_;

  std::vector<FamilyState> families_;
  std::unordered_map<std::string_view, std::size_t> by_name_;
  std::size_t current_ = kNone;
  std::size_t samples_ = 0;

  std::string error_;
  std::string scratch_;
  std::string_view last_name_;  // the previous sample line's name (points into the body)
  std::vector<RawLabel> labels_;
  std::vector<RawLabel> exemplar_labels_;

  // OpenMetrics only: the family whose samples were read last, its MetricPoint so far, and the
  // label sets it has finished with (bounded by that family's size; reset per family).
  std::size_t point_family_ = kNone;
  PointState point_;
  HashSet left_groups_;
  std::string hash_text_;  // GroupHash's copy of an escaped label
};

}  // namespace

void ParsePrometheusText(std::string_view body, std::int64_t default_timestamp_ms,
                         SampleVisitor& visitor, ParseStats& stats) {
  std::vector<MetricFamily> unused;
  Parser parser(Mode::kText, default_timestamp_ms, unused, &visitor);
  (void)parser.Run(body, stats);
}

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        SampleVisitor& visitor, ParseStats& stats) {
  std::vector<MetricFamily> unused;
  Parser parser(Mode::kOpenMetrics, default_timestamp_ms, unused, &visitor);
  if (parser.Run(body, stats)) {
    return Status::Ok();
  }
  return Error{"invalid OpenMetrics exposition: " + parser.error()};
}

void ParsePrometheusText(std::string_view body, std::int64_t default_timestamp_ms,
                         std::vector<MetricFamily>& out, ParseStats& stats) {
  Parser parser(Mode::kText, default_timestamp_ms, out);
  (void)parser.Run(body, stats);
}

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        std::vector<MetricFamily>& out, ParseStats& stats) {
  Parser parser(Mode::kOpenMetrics, default_timestamp_ms, out);
  if (parser.Run(body, stats)) {
    return Status::Ok();
  }
  return Error{"invalid OpenMetrics exposition: " + parser.error()};
}

}  // namespace metricsd
