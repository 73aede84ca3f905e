// The relabel engine: Prometheus 2.42 `relabel_config` rules, compiled once and applied to
// one series' label set at a time.
//
// RelabelRule is a rule as written in config. RelabelProgram::Compile checks a list of rules
// the way Prometheus checks them on load (same rules, same defaults) and compiles their
// regular expressions with RE2; the result is immutable, so one program may be shared by any
// number of threads. Apply() reads a label set sorted by name (the metric name is the
// `__name__` label) and says whether the series is dropped, kept as it is, or changed; only
// in the last case does it write the new label set. Each thread brings its own
// RelabelScratch, which keeps the buffers of earlier calls so that steady state allocates
// little, and nothing at all when the rules keep a series unchanged through keep/drop rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "core/result.h"

namespace metricsd {

enum class RelabelAction : std::uint8_t {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// The config spelling ("replace", "hashmod", ...), compared without regard to case as
// Prometheus does. nullopt for an unknown action.
std::optional<RelabelAction> ParseRelabelAction(std::string_view spelling);
std::string_view RelabelActionName(RelabelAction action) noexcept;

// Prometheus' defaults for the rule fields.
inline constexpr std::string_view kRelabelDefaultSeparator = ";";
inline constexpr std::string_view kRelabelDefaultRegex = "(.*)";
inline constexpr std::string_view kRelabelDefaultReplacement = "$1";

// One rule as written in config.
struct RelabelRule {
  std::vector<std::string> source_labels;
  std::string separator{kRelabelDefaultSeparator};
  // Matched against the whole string: compiled as ^(?:regex)$, RE2 (= Go) syntax.
  std::string regex{kRelabelDefaultRegex};
  std::uint64_t modulus = 0;
  std::string target_label;
  std::string replacement{kRelabelDefaultReplacement};
  std::string action = "replace";
};

enum class RelabelOutcome : std::uint8_t {
  kUnchanged,  // keep the series with its input labels (nothing was written)
  kChanged,    // keep the series with the labels Apply() wrote
  kDropped,    // a rule dropped the series
};

class RelabelProgram;

// Per-thread working memory for Apply(); reuse one across calls. Not thread-safe.
class RelabelScratch {
 public:
  RelabelScratch();
  ~RelabelScratch();
  RelabelScratch(RelabelScratch&&) noexcept;
  RelabelScratch& operator=(RelabelScratch&&) noexcept;

 private:
  friend class RelabelProgram;
  struct State;
  std::unique_ptr<State> state_;
};

class RelabelProgram {
 public:
  // Checks and compiles `rules`. The error names the offending rule and field relative to
  // the list, e.g. "[1].regex: error parsing regexp: missing closing ): `^(?:(a)$`", so that the
  // caller can prefix where the list sits in its config.
  static Result<RelabelProgram> Compile(std::span<const RelabelRule> rules);

  // The empty program: keeps every series unchanged. Copies share the compiled rules.
  RelabelProgram() = default;

  bool empty() const noexcept;
  std::size_t size() const noexcept;

  // `labels` must be sorted by name (byte order) with unique names, and hold `__name__`
  // when the series has a name. On kChanged, `out` holds the new set, sorted by name and
  // with `__name__` among the labels (when a rule did not remove it); `out`'s strings are
  // reused. On the other outcomes `out` is left alone. Labels with an empty value that the
  // input holds pass through, as in Prometheus; labels that rules set to "" are removed.
  RelabelOutcome Apply(std::span<const LabelView> labels, RelabelScratch& scratch,
                       Labels& out) const;
  // The same for a caller that keeps the name apart: `labels` sorted by name, without
  // `__name__`.
  RelabelOutcome Apply(std::string_view metric_name, std::span<const LabelView> labels,
                       RelabelScratch& scratch, Labels& out) const;

 private:
  struct Step;
  // Shared so that copies of a program (one per scrape target, say) cost a reference count.
  std::shared_ptr<const std::vector<Step>> steps_;

  RelabelOutcome Run(RelabelScratch::State& state, Labels& out) const;
};

}  // namespace metricsd
