// The metric model every part of metricsd speaks: collectors produce MetricFamily
// values, the exposition and the shippers consume them.
//
// A Sample carries its full name (so a histogram family "x" holds x_bucket, x_sum and
// x_count samples), its label set sorted by name, its value and the wall-clock time it
// was taken in milliseconds since the Unix epoch. Value types; no sharing, no locking.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace metricsd {

// Prometheus' staleness marker: a NaN with these exact bits says "this series ended here"
// (remote write carries it; every other NaN is an ordinary value).
inline constexpr std::uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double StaleNaN() noexcept { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double value) noexcept {
  return std::bit_cast<std::uint64_t>(value) == kStaleNaNBits;
}

enum class MetricType : std::uint8_t {
  kGauge,
  kCounter,
  kUntyped,
  kHistogram,
  kSummary,
  kInfo,
  kStateSet,
  kGaugeHistogram,
};

// Lower-case name as used by "# TYPE" lines and by the HTTP JSON payload.
std::string_view MetricTypeName(MetricType type) noexcept;

struct Label {
  std::string name;
  std::string value;

  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// Sorted by name, names unique. Use SortLabels() after building one by hand.
using Labels = std::vector<Label>;

// A label that points at someone else's bytes (streaming paths that build no Label).
struct LabelView {
  std::string_view name;
  std::string_view value;
};

// `out` becomes views of `labels` (reusing its storage), for code that takes views.
inline void ViewLabels(const Labels& labels, std::vector<LabelView>& out) {
  out.clear();
  for (const Label& label : labels) {
    out.push_back(LabelView{label.name, label.value});
  }
}

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
  std::int64_t timestamp_ms = 0;

  friend bool operator==(const Sample&, const Sample&) = default;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// Sorts by name (byte order, as remote write requires) and keeps the last of duplicate names.
void SortLabels(Labels& labels);

// Sets or replaces one label, keeping the set sorted.
void SetLabel(Labels& labels, std::string_view name, std::string_view value);

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*   Label names: [a-zA-Z_][a-zA-Z0-9_]*
bool IsValidMetricName(std::string_view name) noexcept;
bool IsValidLabelName(std::string_view name) noexcept;

// Replaces every character that is not allowed with '_' (and prefixes '_' to a leading
// digit). Returns true when something was changed.
bool SanitizeMetricName(std::string& name);
bool SanitizeLabelName(std::string& name);

// Convenience builder used by collectors: one family, samples appended with a shared time.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, MetricType type, std::int64_t timestamp_ms)
      : timestamp_ms_(timestamp_ms) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }

  // Labels must already be sorted by name.
  FamilyBuilder& Add(double value, Labels labels = {}) {
    family_.samples.push_back(Sample{family_.name, std::move(labels), value, timestamp_ms_});
    return *this;
  }

  // Moves the family out; the builder is empty afterwards.
  MetricFamily Build() { return std::move(family_); }
  bool empty() const noexcept { return family_.samples.empty(); }

 private:
  MetricFamily family_;
  std::int64_t timestamp_ms_;
};

// Writes a collector's families into storage that an earlier tick's FamilyWriter filled,
// reusing its strings and vectors: when the families and their series are the same as in
// that tick (the usual case), only values and timestamps are written and nothing is
// allocated. Families are matched by name (a family that moved is found further on; one
// that is new is written over the slot); samples by position, their labels compared.
// A family that gets no samples is left out, and whatever the earlier tick left beyond the
// last family written is removed by Finish() (or the destructor).
//
// `families` must be empty or hold only what a FamilyWriter wrote (every sample named after
// its family); nobody else may read it while the writer exists. Not thread-safe.
class FamilyWriter {
 public:
  FamilyWriter(std::vector<MetricFamily>& families, std::int64_t timestamp_ms) noexcept
      : families_(families), timestamp_ms_(timestamp_ms) {}
  ~FamilyWriter() { Finish(); }
  FamilyWriter(const FamilyWriter&) = delete;
  FamilyWriter& operator=(const FamilyWriter&) = delete;

  // Ends the family being written and starts the next one.
  FamilyWriter& Family(std::string_view name, std::string_view help, MetricType type);
  // One sample of the current family (Family() must have been called). Labels must be
  // sorted by name.
  FamilyWriter& Add(double value);
  FamilyWriter& Add(double value, const Labels& labels);
  // Ends the last family and drops what is left of the earlier content. Nothing may be
  // written after it; the writer no longer touches `families` (calling it again is a no-op).
  void Finish();

 private:
  void EndFamily();
  Sample& NextSample();

  std::vector<MetricFamily>& families_;
  std::int64_t timestamp_ms_;
  std::size_t written_ = 0;  // families_[0, written_) are this tick's, finished
  bool open_ = false;        // families_[written_] is being written
  std::size_t samples_ = 0;  // samples written into the open family
  bool finished_ = false;
};

}  // namespace metricsd
