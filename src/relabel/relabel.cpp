#include "relabel/relabel.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <utility>

#include "relabel/go_text.h"
#include "relabel/md5.h"

namespace metricsd {
namespace {

constexpr std::string_view kNameLabel = "__name__";

struct ActionSpelling {
  std::string_view name;
  RelabelAction action;
};

constexpr std::array<ActionSpelling, 11> kActions = {{
    {"replace", RelabelAction::kReplace},
    {"keep", RelabelAction::kKeep},
    {"drop", RelabelAction::kDrop},
    {"keepequal", RelabelAction::kKeepEqual},
    {"dropequal", RelabelAction::kDropEqual},
    {"hashmod", RelabelAction::kHashMod},
    {"labelmap", RelabelAction::kLabelMap},
    {"labeldrop", RelabelAction::kLabelDrop},
    {"labelkeep", RelabelAction::kLabelKeep},
    {"lowercase", RelabelAction::kLowercase},
    {"uppercase", RelabelAction::kUppercase},
}};

bool IsWordChar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Prometheus' check on target_label (replace and friends) and on labelmap's replacement:
// a label name in which `$name`, `$1` or `${name}` references may stand for parts, and
// which starts with a letter, '_' or a reference.
bool IsValidTargetTemplate(std::string_view text) noexcept {
  if (text.empty() || (text[0] >= '0' && text[0] <= '9')) {
    return false;
  }
  std::size_t pos = 0;
  const auto skip_word = [&] {
    const std::size_t start = pos;
    while (pos < text.size() && IsWordChar(text[pos])) {
      ++pos;
    }
    return pos > start;
  };
  while (pos < text.size()) {
    if (IsWordChar(text[pos])) {
      ++pos;
      continue;
    }
    if (text[pos] != '$') {
      return false;
    }
    ++pos;
    if (pos < text.size() && text[pos] == '{') {
      ++pos;
      if (!skip_word() || pos >= text.size() || text[pos] != '}') {
        return false;
      }
      ++pos;
    } else if (!skip_word()) {
      return false;
    }
  }
  return true;
}

// Go's wording for RE2's error codes (regexp/syntax), so that a rule that Prometheus
// rejects is rejected here with the same message. RE2 names the same fragment of the
// pattern as Go does, except for invalid UTF-8.
std::string GoRegexpError(const RE2& regex) {
  std::string_view code;
  switch (regex.error_code()) {
    case RE2::ErrorBadEscape:
      code = "invalid escape sequence";
      break;
    case RE2::ErrorBadCharClass:
      code = "invalid character class";
      break;
    case RE2::ErrorBadCharRange:
      code = "invalid character class range";
      break;
    case RE2::ErrorMissingBracket:
      code = "missing closing ]";
      break;
    case RE2::ErrorMissingParen:
      code = "missing closing )";
      break;
    case RE2::ErrorUnexpectedParen:
      code = "unexpected )";
      break;
    case RE2::ErrorTrailingBackslash:
      code = "trailing backslash at end of expression";
      break;
    case RE2::ErrorRepeatArgument:
      code = "missing argument to repetition operator";
      break;
    case RE2::ErrorRepeatSize:
      code = "invalid repeat count";
      break;
    case RE2::ErrorRepeatOp:
      code = "invalid nested repetition operator";
      break;
    case RE2::ErrorBadPerlOp:
      code = "invalid or unsupported Perl syntax";
      break;
    case RE2::ErrorBadUTF8:
      code = "invalid UTF-8";
      break;
    case RE2::ErrorBadNamedCapture:
      code = "invalid named capture";
      break;
    case RE2::ErrorPatternTooLarge:
      code = "expression too large";
      break;
    default:
      return "error parsing regexp: " + regex.error();
  }
  std::string message = "error parsing regexp: ";
  message.append(code);
  message.append(": `");
  message.append(regex.error_arg());
  message.push_back('`');
  return message;
}

// RE2 takes `\C` (any byte), which Go's regexp rejects; every other pattern that Go
// accepts RE2 accepts and reads the same way. Text between \Q and \E is literal in both.
bool HasAnyByteEscape(std::string_view pattern) noexcept {
  for (std::size_t pos = 0; pos + 1 < pattern.size(); ++pos) {
    if (pattern[pos] != '\\') {
      continue;
    }
    const char escaped = pattern[++pos];
    if (escaped == 'C') {
      return true;
    }
    if (escaped == 'Q') {
      const std::size_t end = pattern.find("\\E", pos);
      if (end == std::string_view::npos) {
        return false;
      }
      pos = end + 1;
    }
  }
  return false;
}

// A replacement template (Go's Regexp.Expand syntax) cut into literal text, each piece
// followed by the capture group whose text comes next.
struct TemplatePiece {
  std::string literal;
  int group = -1;  // -1: nothing (the end, or a reference to a group that does not exist)
};

struct Template {
  std::vector<TemplatePiece> pieces;
  bool constant = true;  // refers to no group: the expansion is always `text`
  std::string text;      // the expansion when constant
  int max_group = -1;
};

// Go's rules: `$$` is '$'; `$name` takes the longest run of letters, digits and '_';
// `${name}` ends at '}'; a name of digits only (no leading zero, below 1e8) is a group
// number; anything else after '$' leaves the '$' as text. Unknown groups expand to "".
Template ParseTemplate(std::string_view text, const RE2& regex) {
  Template result;
  const int group_count = regex.NumberOfCapturingGroups();
  const std::map<std::string, int>& named_groups = regex.NamedCapturingGroups();
  std::string literal;
  std::size_t pos = 0;
  while (true) {
    const std::size_t dollar = text.find('$', pos);
    if (dollar == std::string_view::npos) {
      literal.append(text.substr(pos));
      break;
    }
    literal.append(text.substr(pos, dollar - pos));
    pos = dollar + 1;
    if (pos < text.size() && text[pos] == '$') {
      literal.push_back('$');
      ++pos;
      continue;
    }
    const bool brace = pos < text.size() && text[pos] == '{';
    const std::size_t name_start = pos + (brace ? 1 : 0);
    std::size_t name_end = name_start;
    while (name_end < text.size()) {
      const go_text::DecodedRune decoded = go_text::DecodeRune(text, name_end);
      if (decoded.rune != '_' && !go_text::IsLetterOrDigit(decoded.rune)) {
        break;
      }
      name_end += decoded.width;
    }
    std::size_t next = name_end;
    bool well_formed = name_end > name_start;
    if (well_formed && brace) {
      well_formed = name_end < text.size() && text[name_end] == '}';
      ++next;
    }
    if (!well_formed) {
      literal.push_back('$');
      continue;
    }
    const std::string_view name = text.substr(name_start, name_end - name_start);
    int number = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || number >= 100000000) {
        number = -1;
        break;
      }
      number = number * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') {
      number = -1;
    }
    int group = -1;
    if (number >= 0) {
      group = number <= group_count ? number : -1;
    } else if (const auto it = named_groups.find(std::string(name)); it != named_groups.end()) {
      group = it->second;
    }
    result.pieces.push_back({std::move(literal), group});
    literal.clear();
    if (group >= 0) {
      result.constant = false;
      result.max_group = std::max(result.max_group, group);
    }
    pos = next;
  }
  result.pieces.push_back({std::move(literal), -1});
  if (result.constant) {
    for (const TemplatePiece& piece : result.pieces) {
      result.text.append(piece.literal);
    }
  }
  return result;
}

void Expand(const Template& tmpl, const re2::StringPiece* groups, int group_count,
            std::string& out) {
  for (const TemplatePiece& piece : tmpl.pieces) {
    out.append(piece.literal);
    if (piece.group >= 0 && piece.group < group_count && groups[piece.group].data() != nullptr) {
      out.append(groups[piece.group].data(), groups[piece.group].size());
    }
  }
}

bool NameLess(const LabelView& label, std::string_view name) noexcept { return label.name < name; }

Error RuleError(std::size_t index, std::string_view field, std::string_view message) {
  std::string text = "[" + std::to_string(index) + "]." + std::string(field) + ": ";
  text.append(message);
  return Error{std::move(text)};
}

std::string Quoted(std::string_view text) {
  std::string quoted = "\"";
  quoted.append(text);
  quoted.push_back('"');
  return quoted;
}

}  // namespace

std::optional<RelabelAction> ParseRelabelAction(std::string_view spelling) {
  // strings.ToLower, as Prometheus lowercases the action before it compares.
  std::string lowered;
  go_text::AppendLower(spelling, lowered);
  for (const ActionSpelling& entry : kActions) {
    if (entry.name == lowered) {
      return entry.action;
    }
  }
  return std::nullopt;
}

std::string_view RelabelActionName(RelabelAction action) noexcept {
  for (const ActionSpelling& entry : kActions) {
    if (entry.action == action) {
      return entry.name;
    }
  }
  return "replace";
}

struct RelabelProgram::Step {
  RelabelAction action = RelabelAction::kReplace;
  std::vector<std::string> source_labels;
  std::string separator;
  std::unique_ptr<RE2> regex;
  std::uint64_t modulus = 0;
  std::string target_label;
  Template target;
  Template replacement;
  // Submatches that replace and labelmap ask for: the whole match and every group that
  // one of the templates names.
  int submatch_count = 1;
  // The regex compiles on its own too, so the ^(?:...)$ wrapper anchors every match at both
  // ends. Otherwise (e.g. "a)|(b", which Prometheus wraps into "^(?:a)|(b)$") matches may
  // cover part of the text, and labelmap must look for more than one.
  bool whole_text_matches = false;
};

namespace {

bool IsAscii(std::string_view text) noexcept {
  std::size_t pos = 0;
  for (; pos + 8 <= text.size(); pos += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + pos, sizeof(word));
    if ((word & 0x8080808080808080ULL) != 0) {
      return false;
    }
  }
  for (; pos < text.size(); ++pos) {
    if (static_cast<unsigned char>(text[pos]) >= 0x80) {
      return false;
    }
  }
  return true;
}

// The text RE2 is to match: the label text itself when it is valid UTF-8, otherwise a copy
// in which each invalid byte is U+FFFD, which is how Go's regexp reads it (RE2 would not
// let `.` match such a byte). Offsets into the copy map back to the text, so groups and
// the parts between matches are the original bytes, as in Go.
class RegexText {
 public:
  void Reset(std::string_view text) {
    original_ = text;
    subject_ = text;
    rewritten_ = false;
    if (IsAscii(text) || IsValidUtf8(text)) {
      return;
    }
    buffer_.clear();
    to_original_.clear();
    for (std::size_t pos = 0; pos < text.size();) {
      const go_text::DecodedRune decoded = go_text::DecodeRune(text, pos);
      const std::string_view piece = decoded.width == 1 && decoded.rune == go_text::kRuneError
                                         ? std::string_view("\xEF\xBF\xBD")
                                         : text.substr(pos, decoded.width);
      for (std::size_t i = 0; i < piece.size(); ++i) {
        to_original_.push_back(static_cast<std::uint32_t>(pos));
      }
      buffer_.append(piece);
      pos += decoded.width;
    }
    to_original_.push_back(static_cast<std::uint32_t>(text.size()));
    subject_ = buffer_;
    rewritten_ = true;
  }

  re2::StringPiece subject() const noexcept { return {subject_.data(), subject_.size()}; }
  std::string_view original() const noexcept { return original_; }

  // An offset into subject(), at a rune boundary, as an offset into the original text.
  std::size_t ToOriginal(std::size_t offset) const noexcept {
    return rewritten_ ? to_original_[offset] : offset;
  }

  // Points groups that a match on subject() found at the same runes of the original text.
  void MapGroups(re2::StringPiece* groups, int count) const noexcept {
    if (!rewritten_) {
      return;
    }
    for (int i = 0; i < count; ++i) {
      if (groups[i].data() == nullptr) {
        continue;
      }
      const std::size_t begin = static_cast<std::size_t>(groups[i].data() - subject_.data());
      const std::size_t end = begin + groups[i].size();
      groups[i] = re2::StringPiece(original_.data() + ToOriginal(begin),
                                   ToOriginal(end) - ToOriginal(begin));
    }
  }

 private:
  static bool IsValidUtf8(std::string_view text) noexcept {
    for (std::size_t pos = 0; pos < text.size();) {
      const go_text::DecodedRune decoded = go_text::DecodeRune(text, pos);
      if (decoded.width == 1 && decoded.rune == go_text::kRuneError) {
        return false;
      }
      pos += decoded.width;
    }
    return true;
  }

  std::string_view original_;
  std::string_view subject_;
  bool rewritten_ = false;
  std::string buffer_;
  std::vector<std::uint32_t> to_original_;
};

}  // namespace

struct RelabelScratch::State {
  std::span<const LabelView> input;
  // The current label set once a rule changed it; until then the input is.
  std::vector<LabelView> working;
  bool copied = false;
  std::vector<LabelView> snapshot;   // labelmap reads the set as it was before the rule
  std::vector<LabelView> with_name;  // for the Apply() overload that takes the name apart
  std::string joined;
  std::vector<re2::StringPiece> groups;
  RegexText regex_text;
  // Text that rules produce. A deque, so that a string_view into one element stays valid
  // while more are added; elements are reused (with their capacity) by later calls.
  std::deque<std::string> texts;
  std::size_t texts_used = 0;

  std::span<const LabelView> Current() const noexcept {
    return copied ? std::span<const LabelView>(working) : input;
  }

  std::string& NewText() {
    if (texts_used == texts.size()) {
      texts.emplace_back();
    }
    std::string& text = texts[texts_used++];
    text.clear();
    return text;
  }

  void Begin(std::span<const LabelView> labels) {
    input = labels;
    copied = false;
    texts_used = 0;
  }

  std::string_view Get(std::string_view name) const noexcept {
    const std::span<const LabelView> current = Current();
    // Series rarely carry more than a dozen labels: comparing lengths first skips most
    // byte comparisons, which a binary search cannot.
    if (current.size() <= 16) {
      for (const LabelView& label : current) {
        if (label.name.size() == name.size() && label.name == name) {
          return label.value;
        }
      }
      return {};
    }
    const auto it = std::lower_bound(current.begin(), current.end(), name, NameLess);
    return it != current.end() && it->name == name ? it->value : std::string_view();
  }

  void MakeWorking() {
    if (!copied) {
      working.assign(input.begin(), input.end());
      copied = true;
    }
  }

  void Delete(std::string_view name) {
    const std::span<const LabelView> current = Current();
    const auto it = std::lower_bound(current.begin(), current.end(), name, NameLess);
    if (it == current.end() || it->name != name) {
      return;
    }
    const std::size_t index = static_cast<std::size_t>(it - current.begin());
    MakeWorking();
    working.erase(working.begin() + static_cast<std::ptrdiff_t>(index));
  }

  // `name` and `value` must outlive the call to Apply() (program strings, input, texts).
  void Set(std::string_view name, std::string_view value) {
    if (value.empty()) {
      Delete(name);  // Prometheus treats an empty value as no label
      return;
    }
    const std::span<const LabelView> current = Current();
    const auto it = std::lower_bound(current.begin(), current.end(), name, NameLess);
    const std::size_t index = static_cast<std::size_t>(it - current.begin());
    if (it != current.end() && it->name == name) {
      if (it->value == value) {
        return;
      }
      MakeWorking();
      working[index].value = value;
      return;
    }
    MakeWorking();
    working.insert(working.begin() + static_cast<std::ptrdiff_t>(index), LabelView{name, value});
  }

  // The source label values joined by the separator; a view into the label set or `joined`.
  std::string_view Join(const std::vector<std::string>& names, std::string_view separator) {
    if (names.size() == 1) {
      return Get(names[0]);
    }
    joined.clear();
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) {
        joined.append(separator);
      }
      joined.append(Get(names[i]));
    }
    return joined;
  }
};

RelabelScratch::RelabelScratch() : state_(std::make_unique<State>()) {}
RelabelScratch::~RelabelScratch() = default;
RelabelScratch::RelabelScratch(RelabelScratch&&) noexcept = default;
RelabelScratch& RelabelScratch::operator=(RelabelScratch&&) noexcept = default;

Result<RelabelProgram> RelabelProgram::Compile(std::span<const RelabelRule> rules) {
  auto steps = std::make_shared<std::vector<Step>>();
  steps->reserve(rules.size());
  for (std::size_t index = 0; index < rules.size(); ++index) {
    const RelabelRule& rule = rules[index];
    Step step;

    const std::optional<RelabelAction> action = ParseRelabelAction(rule.action);
    if (!action) {
      return RuleError(index, "action", "unknown relabel action " + Quoted(rule.action));
    }
    step.action = *action;
    const std::string_view name = RelabelActionName(step.action);

    // Go's regexp defaults are RE2's: UTF-8, Perl classes, leftmost-first, '.' without \n.
    RE2::Options options;
    options.set_log_errors(false);
    step.regex = std::make_unique<RE2>("^(?:" + rule.regex + ")$", options);
    if (!step.regex->ok()) {
      return RuleError(index, "regex", GoRegexpError(*step.regex));
    }
    if (HasAnyByteEscape(rule.regex)) {
      return RuleError(index, "regex", "error parsing regexp: invalid escape sequence: `\\C`");
    }

    // The checks and their order are Prometheus' (Config.UnmarshalYAML), so that the first
    // problem reported is the one Prometheus would report.
    const RelabelAction a = step.action;
    const bool needs_target = a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
                              a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
                              a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
    const bool fixed_replacement = a == RelabelAction::kLowercase ||
                                   a == RelabelAction::kUppercase ||
                                   a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
    if (a == RelabelAction::kHashMod && rule.modulus == 0) {
      return RuleError(index, "modulus",
                       "relabel configuration for hashmod requires non-zero modulus");
    }
    if (needs_target && rule.target_label.empty()) {
      return RuleError(index, "target_label",
                       "relabel configuration for " + std::string(name) +
                           " action requires 'target_label' value");
    }
    if ((a == RelabelAction::kReplace || fixed_replacement) &&
        !IsValidTargetTemplate(rule.target_label)) {
      return RuleError(index, "target_label",
                       Quoted(rule.target_label) + " is invalid 'target_label' for " +
                           std::string(name) + " action");
    }
    if (fixed_replacement && rule.replacement != kRelabelDefaultReplacement) {
      return RuleError(index, "replacement",
                       "'replacement' can not be set for " + std::string(name) + " action");
    }
    if (a == RelabelAction::kLabelMap && !IsValidTargetTemplate(rule.replacement)) {
      return RuleError(index, "replacement",
                       Quoted(rule.replacement) + " is invalid 'replacement' for " +
                           std::string(name) + " action");
    }
    if (a == RelabelAction::kHashMod && !IsValidLabelName(rule.target_label)) {
      return RuleError(index, "target_label",
                       Quoted(rule.target_label) + " is invalid 'target_label' for " +
                           std::string(name) + " action");
    }
    if (a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) {
      const char* field = rule.regex != kRelabelDefaultRegex               ? "regex"
                          : rule.modulus != 0                              ? "modulus"
                          : rule.separator != kRelabelDefaultSeparator     ? "separator"
                          : rule.replacement != kRelabelDefaultReplacement ? "replacement"
                                                                           : nullptr;
      if (field != nullptr) {
        return RuleError(index, field,
                         std::string(name) +
                             " action requires only 'source_labels' and `target_label`, and no "
                             "other fields");
      }
    }
    if (a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) {
      const char* field = !rule.source_labels.empty()                      ? "source_labels"
                          : !rule.target_label.empty()                     ? "target_label"
                          : rule.modulus != 0                              ? "modulus"
                          : rule.separator != kRelabelDefaultSeparator     ? "separator"
                          : rule.replacement != kRelabelDefaultReplacement ? "replacement"
                                                                           : nullptr;
      if (field != nullptr) {
        return RuleError(index, field,
                         std::string(name) + " action requires only 'regex', and no other fields");
      }
    }

    step.source_labels = rule.source_labels;
    step.separator = rule.separator;
    step.modulus = rule.modulus;
    step.target_label = rule.target_label;
    step.target = ParseTemplate(rule.target_label, *step.regex);
    step.replacement = ParseTemplate(rule.replacement, *step.regex);
    step.submatch_count = 1 + std::max(step.target.max_group, step.replacement.max_group);
    if (step.submatch_count < 1) {
      step.submatch_count = 1;
    }
    step.whole_text_matches = RE2(rule.regex, options).ok();
    steps->push_back(std::move(step));
  }
  RelabelProgram program;
  program.steps_ = std::move(steps);
  return program;
}

bool RelabelProgram::empty() const noexcept { return !steps_ || steps_->empty(); }
std::size_t RelabelProgram::size() const noexcept { return steps_ ? steps_->size() : 0; }

RelabelOutcome RelabelProgram::Apply(std::span<const LabelView> labels, RelabelScratch& scratch,
                                     Labels& out) const {
  RelabelScratch::State& state = *scratch.state_;
  state.Begin(labels);
  return Run(state, out);
}

RelabelOutcome RelabelProgram::Apply(std::string_view metric_name,
                                     std::span<const LabelView> labels, RelabelScratch& scratch,
                                     Labels& out) const {
  RelabelScratch::State& state = *scratch.state_;
  state.with_name.clear();
  const auto at = std::lower_bound(labels.begin(), labels.end(), kNameLabel, NameLess);
  state.with_name.insert(state.with_name.end(), labels.begin(), at);
  state.with_name.push_back(LabelView{kNameLabel, metric_name});
  state.with_name.insert(state.with_name.end(), at, labels.end());
  state.Begin(state.with_name);
  return Run(state, out);
}

RelabelOutcome RelabelProgram::Run(RelabelScratch::State& state, Labels& out) const {
  if (!steps_) {
    return RelabelOutcome::kUnchanged;
  }
  for (const Step& step : *steps_) {
    const RE2& regex = *step.regex;
    switch (step.action) {
      case RelabelAction::kDrop:
      case RelabelAction::kKeep: {
        state.regex_text.Reset(state.Join(step.source_labels, step.separator));
        const re2::StringPiece subject = state.regex_text.subject();
        const bool matched = regex.Match(subject, 0, subject.size(), RE2::UNANCHORED, nullptr, 0);
        if (matched == (step.action == RelabelAction::kDrop)) {
          return RelabelOutcome::kDropped;
        }
        break;
      }
      case RelabelAction::kDropEqual:
      case RelabelAction::kKeepEqual: {
        const std::string_view value = state.Join(step.source_labels, step.separator);
        const bool equal = state.Get(step.target_label) == value;
        if (equal == (step.action == RelabelAction::kDropEqual)) {
          return RelabelOutcome::kDropped;
        }
        break;
      }
      case RelabelAction::kReplace: {
        state.regex_text.Reset(state.Join(step.source_labels, step.separator));
        const re2::StringPiece subject = state.regex_text.subject();
        state.groups.resize(static_cast<std::size_t>(step.submatch_count));
        if (!regex.Match(subject, 0, subject.size(), RE2::UNANCHORED, state.groups.data(),
                         step.submatch_count)) {
          break;  // no match, no replacement
        }
        state.regex_text.MapGroups(state.groups.data(), step.submatch_count);
        std::string_view target = step.target.text;
        if (!step.target.constant) {
          std::string& expanded = state.NewText();
          Expand(step.target, state.groups.data(), step.submatch_count, expanded);
          target = expanded;
        }
        // Prometheus deletes the label named by the unexpanded target_label in both cases
        // below, which only matters when that is a plain label name.
        if (!IsValidLabelName(target)) {
          state.Delete(step.target_label);
          break;
        }
        std::string_view replacement = step.replacement.text;
        if (!step.replacement.constant) {
          std::string& expanded = state.NewText();
          Expand(step.replacement, state.groups.data(), step.submatch_count, expanded);
          replacement = expanded;
        }
        if (replacement.empty()) {
          state.Delete(step.target_label);
          break;
        }
        state.Set(target, replacement);
        break;
      }
      case RelabelAction::kLowercase:
      case RelabelAction::kUppercase: {
        const std::string_view value = state.Join(step.source_labels, step.separator);
        std::string& mapped = state.NewText();
        if (step.action == RelabelAction::kLowercase) {
          go_text::AppendLower(value, mapped);
        } else {
          go_text::AppendUpper(value, mapped);
        }
        state.Set(step.target_label, mapped);
        break;
      }
      case RelabelAction::kHashMod: {
        const std::string_view value = state.Join(step.source_labels, step.separator);
        const Md5Digest digest = Md5::Of(value);
        // Prometheus folds the digest into 64 bits big-endian; only the last 8 bytes survive.
        std::uint64_t hash = 0;
        for (std::size_t i = 8; i < digest.size(); ++i) {
          hash = hash << 8 | digest[i];
        }
        std::array<char, 24> digits;
        const auto end =
            std::to_chars(digits.data(), digits.data() + digits.size(), hash % step.modulus).ptr;
        std::string& text = state.NewText();
        text.assign(digits.data(), end);
        state.Set(step.target_label, text);
        break;
      }
      case RelabelAction::kLabelMap: {
        const std::span<const LabelView> current = state.Current();
        state.snapshot.assign(current.begin(), current.end());
        state.groups.resize(static_cast<std::size_t>(step.submatch_count));
        RegexText& text = state.regex_text;
        for (const LabelView& label : state.snapshot) {
          text.Reset(label.name);
          const re2::StringPiece name = text.subject();
          if (!regex.Match(name, 0, name.size(), RE2::UNANCHORED, nullptr, 0)) {
            continue;
          }
          std::string& mapped = state.NewText();
          if (step.whole_text_matches) {
            // One match, the whole name: ReplaceAllString comes down to one expansion.
            if (!step.replacement.constant) {
              (void)regex.Match(name, 0, name.size(), RE2::ANCHOR_BOTH, state.groups.data(),
                                step.submatch_count);
              text.MapGroups(state.groups.data(), step.submatch_count);
            }
            Expand(step.replacement, state.groups.data(), step.submatch_count, mapped);
            state.Set(mapped, label.value);
            continue;
          }
          // Go's ReplaceAllString: every non-overlapping match is replaced; an empty match
          // right after the previous one is not, and the search always moves forward. The
          // loop runs in offsets of the matched text; copies come from the original name.
          std::size_t last_end = 0;
          std::size_t search = 0;
          while (search <= name.size() && regex.Match(name, search, name.size(), RE2::UNANCHORED,
                                                      state.groups.data(), step.submatch_count)) {
            const std::size_t begin =
                static_cast<std::size_t>(state.groups[0].data() - name.data());
            const std::size_t end = begin + state.groups[0].size();
            mapped.append(text.original().substr(
                text.ToOriginal(last_end), text.ToOriginal(begin) - text.ToOriginal(last_end)));
            if (end > last_end || begin == 0) {
              text.MapGroups(state.groups.data(), step.submatch_count);
              Expand(step.replacement, state.groups.data(), step.submatch_count, mapped);
            }
            last_end = end;
            const std::size_t width =
                go_text::DecodeRune(std::string_view(name.data(), name.size()), search).width;
            if (search + width > end) {
              search += width;
            } else if (search + 1 > end) {
              ++search;
            } else {
              search = end;
            }
          }
          mapped.append(text.original().substr(text.ToOriginal(last_end)));
          state.Set(mapped, label.value);
        }
        break;
      }
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep: {
        const bool drop_matching = step.action == RelabelAction::kLabelDrop;
        const auto doomed = [&](const LabelView& label) {
          state.regex_text.Reset(label.name);
          const re2::StringPiece name = state.regex_text.subject();
          return regex.Match(name, 0, name.size(), RE2::UNANCHORED, nullptr, 0) == drop_matching;
        };
        const std::span<const LabelView> current = state.Current();
        const auto first = std::find_if(current.begin(), current.end(), doomed);
        if (first == current.end()) {
          break;
        }
        const std::size_t index = static_cast<std::size_t>(first - current.begin());
        state.MakeWorking();
        const auto kept = std::remove_if(state.working.begin() + static_cast<std::ptrdiff_t>(index),
                                         state.working.end(), doomed);
        state.working.erase(kept, state.working.end());
        break;
      }
    }
  }

  if (!state.copied) {
    return RelabelOutcome::kUnchanged;
  }
  const auto same = [](const LabelView& a, const LabelView& b) {
    return a.name == b.name && a.value == b.value;
  };
  if (std::equal(state.working.begin(), state.working.end(), state.input.begin(), state.input.end(),
                 same)) {
    return RelabelOutcome::kUnchanged;
  }
  out.resize(state.working.size());
  for (std::size_t i = 0; i < state.working.size(); ++i) {
    out[i].name.assign(state.working[i].name);
    out[i].value.assign(state.working[i].value);
  }
  return RelabelOutcome::kChanged;
}

}  // namespace metricsd
