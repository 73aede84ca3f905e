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
#include "formats/exposition_lexing.h"
#include "formats/family_collector.h"

namespace metricsd {
namespace {

// Everything in which Prometheus text 0.0.4 and OpenMetrics 1.0 differ, as one constant
// description per format (kTextRules, kOpenMetricsRules below). The parser reads these fields
// and never asks which format it is reading.
struct TypeWord {
  std::string_view word;
  MetricType type;
};

struct FormatRules {
  // Line structure.
  bool ends_with_eof;          // "# EOF" ends the body; missing it or text after it fails
  bool rejects_whole_body;     // the first violation rejects the body (else: skip the line)
  bool lenient_blanks;         // runs of blanks between tokens, a trailing comma in label
                               // sets (else: exactly one space)
  bool escaped_quote_in_help;  // `\"` in HELP is an escape
  // Families.
  bool strict_families;              // families contiguous, metadata before samples, no name
                                     // clashes, and the per-type MetricPoint rules
  bool suffixed_counters;            // counters' samples are _total/_created; histograms and
                                     // summaries may have _created
  std::size_t exemplar_label_chars;  // the exemplar label set's cap in code points; 0: none
  std::span<const TypeWord> type_words;
  // Numbers.
  bool (*parse_value)(std::string_view, double&) noexcept;
  bool (*parse_bound)(std::string_view, double&) noexcept;  // `le` and `quantile`
  bool (*parse_timestamp)(std::string_view, std::int64_t&) noexcept;
  bool (*parse_exemplar_timestamp)(std::string_view) noexcept;  // checked, then dropped
};

constexpr TypeWord kTextTypeWords[] = {{"counter", MetricType::kCounter},
                                       {"gauge", MetricType::kGauge},
                                       {"histogram", MetricType::kHistogram},
                                       {"summary", MetricType::kSummary},
                                       {"untyped", MetricType::kUntyped}};

constexpr TypeWord kOpenMetricsTypeWords[] = {
    {"counter", MetricType::kCounter},     {"gauge", MetricType::kGauge},
    {"histogram", MetricType::kHistogram}, {"summary", MetricType::kSummary},
    {"unknown", MetricType::kUntyped},     {"gaugehistogram", MetricType::kGaugeHistogram},
    {"stateset", MetricType::kStateSet},   {"info", MetricType::kInfo}};

constexpr FormatRules kTextRules{
    .ends_with_eof = false,
    .rejects_whole_body = false,
    .lenient_blanks = true,
    .escaped_quote_in_help = false,
    .strict_families = false,
    .suffixed_counters = false,
    .exemplar_label_chars = 0,
    .type_words = kTextTypeWords,
    .parse_value = lexing::ParseTextValue,
    .parse_bound = lexing::ParseTextValue,
    .parse_timestamp = lexing::ParseTextTimestamp,
    // Prometheus reads a text exemplar's timestamp as a float.
    .parse_exemplar_timestamp =
        [](std::string_view t) noexcept {
          double unused = 0;
          return lexing::ParseTextValue(t, unused);
        },
};

constexpr FormatRules kOpenMetricsRules{
    .ends_with_eof = true,
    .rejects_whole_body = true,
    .lenient_blanks = false,
    .escaped_quote_in_help = true,
    .strict_families = true,
    .suffixed_counters = true,
    .exemplar_label_chars = 128,
    .type_words = kOpenMetricsTypeWords,
    .parse_value = lexing::ParseOmNumber,
    .parse_bound = lexing::ParseOmBound,
    .parse_timestamp = lexing::ParseOmTimestamp,
    .parse_exemplar_timestamp =
        [](std::string_view t) noexcept {
          std::int64_t unused = 0;
          return lexing::ParseOmTimestamp(t, unused);
        },
};

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

using lexing::CountCodePoints;
using lexing::FindQuoteOrBackslash;
using lexing::HashBytes;
using lexing::IsBlank;
using lexing::IsValidUtf8;
using lexing::kChars;
using lexing::ScanMetricName;
using lexing::U;

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
bool Belongs(const FormatRules& rules, MetricType type, std::string_view family,
             std::string_view sample, SampleKind& kind) noexcept {
  if (sample.size() < family.size() || sample.compare(0, family.size(), family) != 0) {
    return false;
  }
  std::string_view rest = sample.substr(family.size());
  const bool suffixed = rules.suffixed_counters;
  auto is = [&](std::string_view suffix, SampleKind suffix_kind) {
    kind = suffix_kind;
    return rest == suffix;
  };
  kind = SampleKind::kPlain;
  switch (type) {
    case MetricType::kCounter:
      return suffixed ? (is("_total", SampleKind::kTotal) || is("_created", SampleKind::kCreated))
                      : rest.empty();
    case MetricType::kGauge:
    case MetricType::kUntyped:
    case MetricType::kStateSet:
      return rest.empty();
    case MetricType::kInfo:
      return is("_info", SampleKind::kInfo);
    case MetricType::kHistogram:
      return is("_bucket", SampleKind::kBucket) || is("_count", SampleKind::kCount) ||
             is("_sum", SampleKind::kSum) || (suffixed && is("_created", SampleKind::kCreated));
    case MetricType::kGaugeHistogram:
      return is("_bucket", SampleKind::kBucket) || is("_gcount", SampleKind::kGaugeCount) ||
             is("_gsum", SampleKind::kGaugeSum);
    case MetricType::kSummary:
      return is("", SampleKind::kQuantile) || is("_count", SampleKind::kCount) ||
             is("_sum", SampleKind::kSum) || (suffixed && is("_created", SampleKind::kCreated));
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

std::optional<MetricType> TypeFromWord(const FormatRules& rules, std::string_view word) noexcept {
  for (const TypeWord& entry : rules.type_words) {
    if (entry.word == word) {
      return entry.type;
    }
  }
  return std::nullopt;
}

// Values point into the body or into the parser's scratch buffer.
using RawLabel = LabelView;

class Parser {
 public:
  Parser(const FormatRules& rules, std::int64_t default_timestamp_ms, SampleVisitor& visitor)
      : rules_(rules), default_timestamp_ms_(default_timestamp_ms), visitor_(visitor) {}

  // False at the first violation when the format rejects whole bodies (error() says why);
  // otherwise invalid lines are skipped and counted, and this is true.
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
      const char* reason = rules_.ends_with_eof ? OpenMetricsLine(line, saw_eof) : TextLine(line);
      if (reason != nullptr) {
        ++stats.invalid_lines;
        if (stats.first_error.empty() || rules_.rejects_whole_body) {
          error_ = "line " + std::to_string(line_no) + ": " + reason;
          if (stats.first_error.empty()) {
            stats.first_error = error_;
          }
        }
        if (rules_.rejects_whole_body) {
          return false;
        }
      }
    }
    if (rules_.ends_with_eof && !saw_eof) {
      ++stats.invalid_lines;
      error_ = "missing # EOF";
      if (stats.first_error.empty()) {
        stats.first_error = error_;
      }
      return false;
    }
    stats.samples += samples_;
    return true;
  }

  const std::string& error() const noexcept { return error_; }

 private:
  struct FamilyState {
    std::string_view name;  // points into the body
    std::string help;
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

  std::size_t NewFamily(std::string_view name, MetricType type) {
    FamilyState state;
    state.name = name;
    state.type = type;
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
          Belongs(rules_, families_[other].type, families_[other].name, name, kind)) {
        return true;
      }
    }
    std::string candidate;
    for (std::string_view suffix : kSuffixes) {
      candidate.assign(name);
      candidate.append(suffix);
      SampleKind kind;
      if (Belongs(rules_, type, name, candidate, kind)) {
        std::size_t other = Find(candidate);
        if (other != kNone && other != self) {
          return true;
        }
      }
    }
    return false;
  }

  // A line of a format without "# EOF": blank lines, comments, HELP, TYPE and samples, with
  // blanks between tokens and an optional "\r" at the end.
  const char* TextLine(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
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

  // A line of a format that ends with "# EOF": descriptors, samples, the EOF marker itself.
  const char* OpenMetricsLine(std::string_view line, bool& saw_eof) {
    if (saw_eof) {
      return "content after # EOF";
    }
    if (line == "# EOF") {
      saw_eof = true;
      return FinishPoint();
    }
    if (line.empty()) {
      return "empty line";
    }
    return line[0] == '#' ? OpenMetricsDescriptor(line) : SampleLine(line);
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
    if (!rules_.strict_families) {
      // HELP and TYPE come in pairs and before their samples: the family they name becomes
      // the current one, so the line after looks it up without hashing.
      if (current_ == kNone || families_[current_].name != name) {
        current_ = Find(name);
        if (current_ == kNone) {
          current_ = NewFamily(name, MetricType::kUntyped);
        }
      }
      index = current_;
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
    std::optional<MetricType> type = TypeFromWord(rules_, word);
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
    if (rules_.strict_families && ClashesWithOthers(name, *type, index)) {
      return "family name clashes with another family's sample names";
    }
    if (family.has_nonempty_unit && !CanHaveUnit(*type)) {
      return "info and stateset families have no unit";
    }
    family.has_type = true;
    family.type = *type;
    return nullptr;
  }

  const char* Help(std::string_view name, std::string_view text) {
    std::string help;
    lexing::UnescapeHelp(text, rules_.escaped_quote_in_help, help);
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
    family.help = std::move(help);
    if (family.has_samples) {
      visitor_.OnHelpAfterSamples(View(index));  // the text format allows it
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
    const std::size_t size = line.size();
    labels.clear();
    ++pos;
    SkipOptionalBlanks(line, pos);
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
      SkipOptionalBlanks(line, pos);
      if (pos >= size || line[pos] != '=') {
        return "expected '=' after label name";
      }
      ++pos;
      SkipOptionalBlanks(line, pos);
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
      SkipOptionalBlanks(line, pos);
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
      if (rules_.lenient_blanks) {
        SkipBlanks(line, pos);
        if (pos < size && line[pos] == '}') {
          ++pos;  // the text format allows a trailing comma
          return nullptr;
        }
      }
    }
  }

  // Where blanks may separate tokens, skips them; in the strict form the caller checks for the
  // one space itself.
  void SkipOptionalBlanks(std::string_view line, std::size_t& pos) const noexcept {
    if (rules_.lenient_blanks) {
      SkipBlanks(line, pos);
    }
  }

  bool EndsToken(char c) const noexcept { return rules_.lenient_blanks ? IsBlank(c) : c == ' '; }

  // The token that starts after the separator at line[pos] (blanks, or exactly one space);
  // pos ends after it. False when there is no separator or the token is empty.
  bool NextToken(std::string_view line, std::size_t& pos, std::string_view& token) const {
    if (rules_.lenient_blanks) {
      SkipBlanks(line, pos);
    } else if (pos < line.size() && line[pos] == ' ') {
      ++pos;
    } else {
      return false;
    }
    std::size_t start = pos;
    while (pos < line.size() && !EndsToken(line[pos])) {
      ++pos;
    }
    token = line.substr(start, pos - start);
    return !token.empty();
  }

  // ` # {labels} value [timestamp]` after a sample; pos is at '#'. Checked, then dropped.
  const char* Exemplar(std::string_view line, std::size_t pos) {
    ++pos;
    if (!rules_.lenient_blanks) {
      if (pos >= line.size() || line[pos] != ' ') {
        return "invalid exemplar";
      }
      ++pos;
    }
    SkipOptionalBlanks(line, pos);
    if (pos >= line.size() || line[pos] != '{') {
      return "invalid exemplar";
    }
    if (const char* reason = Labels(line, pos, exemplar_labels_)) {
      return reason;
    }
    if (rules_.exemplar_label_chars != 0) {
      std::size_t length = 0;
      for (const RawLabel& label : exemplar_labels_) {
        length += CountCodePoints(label.name) + CountCodePoints(label.value);
      }
      if (length > rules_.exemplar_label_chars) {
        return "exemplar label set longer than 128 characters";
      }
    }
    std::string_view value_token;
    double value = 0;
    if (!NextToken(line, pos, value_token) || !rules_.parse_value(value_token, value)) {
      return "invalid exemplar value";
    }
    SkipOptionalBlanks(line, pos);
    if (pos < line.size()) {
      std::string_view ts_token;
      if (!NextToken(line, pos, ts_token) || !rules_.parse_exemplar_timestamp(ts_token)) {
        return "invalid exemplar timestamp";
      }
      SkipOptionalBlanks(line, pos);
      if (pos < line.size()) {
        return "unexpected text after exemplar";
      }
    }
    return nullptr;
  }

  const char* SampleLine(std::string_view line) {
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
    // A series the visitor knows (its cache, from an earlier scrape): the same bytes up to
    // the end of a label block lex to the same name and labels, which passed every check
    // then, so the block is not lexed again. Text format only: OpenMetrics' MetricPoint
    // rules look at the labels of every sample.
    const std::string_view known =
        rules_.strict_families ? std::string_view() : visitor_.NextKnownSeries();
    const std::size_t labels_at = pos;
    const bool is_known = !known.empty() && known.back() == '}' && known.size() > pos &&
                          line.size() > known.size() &&
                          SameBytes(line.substr(0, known.size()), known);
    if (is_known) {
      pos = known.size();
    } else {
      if (rules_.lenient_blanks) {
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
    }
    series_text_ = line.substr(0, pos);
    if (!rules_.lenient_blanks && (pos >= line.size() || line[pos] != ' ')) {
      return "expected a single space before the value";
    }
    std::string_view value_token;
    if (!NextToken(line, pos, value_token)) {
      return "missing value";
    }
    double value = 0;
    if (!rules_.parse_value(value_token, value)) {
      return "invalid value";
    }
    // Then: [timestamp] [# exemplar], each after its separator. The text format also allows
    // blanks at the end of the line; OpenMetrics does not.
    std::int64_t timestamp_ms = default_timestamp_ms_;
    bool has_timestamp = false;
    bool has_exemplar = false;
    if (pos < line.size()) {
      std::size_t after_value = pos;
      std::string_view ts_token;
      if (NextToken(line, pos, ts_token) && ts_token[0] != '#') {
        if (!rules_.parse_timestamp(ts_token, timestamp_ms)) {
          return "invalid timestamp";
        }
        has_timestamp = true;
        after_value = pos;
      }
      pos = after_value;
      if (pos < line.size()) {
        std::size_t hash = pos;
        SkipOptionalBlanks(line, hash);
        if (!rules_.lenient_blanks && line[hash] == ' ') {
          ++hash;
        }
        if (hash >= line.size()) {
          if (!rules_.lenient_blanks) {
            return "trailing space";
          }
        } else if (line[hash] != '#' || (!rules_.lenient_blanks && hash != pos + 1)) {
          return has_timestamp ? "unexpected text after the timestamp"
                               : "unexpected text after the sample";
        } else {
          if (const char* reason = Exemplar(line, hash)) {
            return reason;
          }
          has_exemplar = true;
        }
      }
    }
    if (is_known) {
      return AddKnownSample(line, labels_at, name, value, timestamp_ms, has_timestamp,
                            has_exemplar);
    }
    return AddSample(name, value, timestamp_ms, has_timestamp, has_exemplar);
  }

  // Finds (or, where the format allows it, creates) the family of a sample.
  const char* ResolveFamily(std::string_view name, std::size_t& index, SampleKind& kind) {
    if (current_ != kNone) {
      const FamilyState& family = families_[current_];
      if (Belongs(rules_, family.type, family.name, name, kind)) {
        index = current_;
        return nullptr;
      }
    }
    std::size_t exact = Find(name);
    std::string_view base = StripSuffix(name);
    std::size_t by_base = base.empty() ? kNone : Find(base);
    if (!rules_.strict_families) {
      if (exact != kNone &&
          Belongs(rules_, families_[exact].type, families_[exact].name, name, kind)) {
        index = exact;
      } else if (by_base != kNone &&
                 Belongs(rules_, families_[by_base].type, families_[by_base].name, name, kind)) {
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
        Belongs(rules_, families_[by_base].type, families_[by_base].name, name, kind)) {
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

  FamilyView View(std::size_t index) const noexcept {
    const FamilyState& family = families_[index];
    return FamilyView{family.name, family.help, family.type, index};
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

  // Sorts the sample's labels by name and refuses repeated and reserved names.
  const char* SortAndCheckLabels() {
    auto by_name = [](const RawLabel& a, const RawLabel& b) { return LessBytes(a.name, b.name); };
    if (!std::is_sorted(labels_.begin(), labels_.end(), by_name)) {
      std::sort(labels_.begin(), labels_.end(), by_name);
    }
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (i > 0 && SameBytes(labels_[i].name, labels_[i - 1].name)) {
        return "duplicate label name";
      }
      if (SameBytes(labels_[i].name, "__name__")) {
        return "reserved label name __name__";
      }
    }
    return nullptr;
  }

  const char* AddSample(std::string_view name, double value, std::int64_t timestamp_ms,
                        bool has_timestamp, bool has_exemplar) {
    if (const char* reason = SortAndCheckLabels()) {
      return reason;
    }
    std::size_t index = kNone;
    SampleKind kind = SampleKind::kPlain;
    if (const char* reason = ResolveFamily(name, index, kind)) {
      return reason;
    }
    return AddToFamily(index, kind, name, value, timestamp_ms, has_timestamp, has_exemplar);
  }

  // A sample whose series text the visitor knows (labels not lexed; see SampleLine).
  // `labels_at` is where the label block starts in `line`.
  const char* AddKnownSample(std::string_view line, std::size_t labels_at, std::string_view name,
                             double value, std::int64_t timestamp_ms, bool has_timestamp,
                             bool has_exemplar) {
    std::size_t index = kNone;
    SampleKind kind = SampleKind::kPlain;
    if (const char* reason = ResolveFamily(name, index, kind)) {
      return reason;
    }
    if (kind == SampleKind::kBucket || kind == SampleKind::kQuantile) {
      // The bound is a label (and the family's type may have changed since the series was
      // cached): lex the block after all and check as for any sample.
      std::size_t pos = labels_at;
      SkipBlanks(line, pos);
      if (const char* reason = Labels(line, pos, labels_)) {
        return reason;
      }
      if (const char* reason = SortAndCheckLabels()) {
        return reason;
      }
      return AddToFamily(index, kind, name, value, timestamp_ms, has_timestamp, has_exemplar);
    }
    families_[index].has_samples = true;
    visitor_.OnKnownSample(View(index), value, timestamp_ms, series_text_);
    ++samples_;
    return nullptr;
  }

  // The checks that need the family and the labels, then the visitor.
  const char* AddToFamily(std::size_t index, SampleKind kind, std::string_view name, double value,
                          std::int64_t timestamp_ms, bool has_timestamp, bool has_exemplar) {
    double bound = 0;
    if (kind == SampleKind::kBucket || kind == SampleKind::kQuantile) {
      const RawLabel* label = FindLabel(kind == SampleKind::kBucket ? "le" : "quantile");
      if (label == nullptr) {
        return kind == SampleKind::kBucket ? "histogram bucket without le label"
                                           : "summary quantile without quantile label";
      }
      if (!rules_.parse_bound(label->value, bound)) {
        return kind == SampleKind::kBucket ? "invalid le value" : "invalid quantile value";
      }
    }
    if (rules_.strict_families) {
      if (const char* reason = CheckOpenMetricsSample(index, kind, bound, value, timestamp_ms,
                                                      has_timestamp, has_exemplar)) {
        return reason;
      }
    }
    families_[index].has_samples = true;
    // Empty values mean "no label": compact them away in place.
    std::size_t kept = 0;
    for (const RawLabel& label : labels_) {
      if (!label.value.empty()) {
        labels_[kept++] = label;
      }
    }
    labels_.resize(kept);
    visitor_.OnSample(View(index), name, labels_, value, timestamp_ms, series_text_);
    ++samples_;
    return nullptr;
  }

  const FormatRules& rules_;
  const std::int64_t default_timestamp_ms_;
  SampleVisitor& visitor_;

  std::vector<FamilyState> families_;
  std::unordered_map<std::string_view, std::size_t> by_name_;
  std::size_t current_ = kNone;
  std::size_t samples_ = 0;

  std::string error_;
  std::string scratch_;
  std::string_view last_name_;    // the previous sample line's name (points into the body)
  std::string_view series_text_;  // the current sample's name and label block, as written
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
  Parser parser(kTextRules, default_timestamp_ms, visitor);
  (void)parser.Run(body, stats);
}

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        SampleVisitor& visitor, ParseStats& stats) {
  Parser parser(kOpenMetricsRules, default_timestamp_ms, visitor);
  if (parser.Run(body, stats)) {
    return Status::Ok();
  }
  return Error{"invalid OpenMetrics exposition: " + parser.error()};
}

void ParsePrometheusText(std::string_view body, std::int64_t default_timestamp_ms,
                         std::vector<MetricFamily>& out, ParseStats& stats) {
  FamilyCollector collector(out);
  ParsePrometheusText(body, default_timestamp_ms, collector, stats);
}

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        std::vector<MetricFamily>& out, ParseStats& stats) {
  FamilyCollector collector(out);
  Status status = ParseOpenMetrics(body, default_timestamp_ms, collector, stats);
  if (!status.ok()) {
    collector.Discard();
  }
  return status;
}

}  // namespace metricsd
