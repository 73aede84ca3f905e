#include "core/metric.h"

#include <algorithm>

namespace metricsd {

std::string_view MetricTypeName(MetricType type) noexcept {
  switch (type) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
  }
  return "untyped";
}

void SortLabels(Labels& labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  // Keep the last of equal names: later writers (e.g. metricsd's own labels) win.
  Labels unique;
  unique.reserve(labels.size());
  for (auto& label : labels) {
    if (!unique.empty() && unique.back().name == label.name) {
      unique.back() = std::move(label);
    } else {
      unique.push_back(std::move(label));
    }
  }
  labels = std::move(unique);
}

void SetLabel(Labels& labels, std::string_view name, std::string_view value) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels.end() && it->name == name) {
    it->value = value;
  } else {
    labels.insert(it, Label{std::string(name), std::string(value)});
  }
}

namespace {

bool IsAlpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) noexcept { return c >= '0' && c <= '9'; }

template <bool kAllowColon>
bool IsValidName(std::string_view name) noexcept {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = IsAlpha(c) || c == '_' || (kAllowColon && c == ':') || (i > 0 && IsDigit(c));
    if (!ok) {
      return false;
    }
  }
  return true;
}

template <bool kAllowColon>
bool Sanitize(std::string& name) {
  bool changed = false;
  if (name.empty()) {
    name = "_";
    return true;
  }
  for (char& c : name) {
    if (!(IsAlpha(c) || IsDigit(c) || c == '_' || (kAllowColon && c == ':'))) {
      c = '_';
      changed = true;
    }
  }
  if (IsDigit(name.front())) {
    name.insert(name.begin(), '_');
    changed = true;
  }
  return changed;
}

}  // namespace

FamilyWriter& FamilyWriter::Family(std::string_view name, std::string_view help, MetricType type) {
  EndFamily();
  if (written_ == families_.size()) {
    families_.push_back(MetricFamily{std::string(name), std::string(help), type, {}});
  } else if (families_[written_].name != name) {
    // A family that is missing this tick (or new) shifts the rest: look for this one further
    // on before writing over the slot.
    auto it = std::find_if(families_.begin() + static_cast<std::ptrdiff_t>(written_) + 1,
                           families_.end(), [&](const MetricFamily& f) { return f.name == name; });
    if (it != families_.end()) {
      std::swap(*it, families_[written_]);
    } else {
      MetricFamily& slot = families_[written_];
      slot.name = name;
      for (Sample& sample : slot.samples) {
        sample.name = name;
      }
    }
  }
  MetricFamily& family = families_[written_];
  if (family.help != help) {
    family.help = help;
  }
  family.type = type;
  open_ = true;
  samples_ = 0;
  return *this;
}

Sample& FamilyWriter::NextSample() {
  MetricFamily& family = families_[written_];
  if (samples_ == family.samples.size()) {
    family.samples.push_back(Sample{family.name, {}, 0, 0});
  }
  Sample& sample = family.samples[samples_++];
  sample.timestamp_ms = timestamp_ms_;
  return sample;
}

FamilyWriter& FamilyWriter::Add(double value) {
  Sample& sample = NextSample();
  sample.labels.clear();
  sample.value = value;
  return *this;
}

FamilyWriter& FamilyWriter::Add(double value, const Labels& labels) {
  Sample& sample = NextSample();
  if (sample.labels != labels) {
    sample.labels = labels;
  }
  sample.value = value;
  return *this;
}

void FamilyWriter::EndFamily() {
  if (!open_) {
    return;
  }
  open_ = false;
  MetricFamily& family = families_[written_];
  if (samples_ == 0) {
    return;  // no samples: the slot is written over by the next family, or dropped
  }
  family.samples.resize(samples_);
  ++written_;
}

void FamilyWriter::Finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  EndFamily();
  families_.resize(written_);
}

bool IsValidMetricName(std::string_view name) noexcept { return IsValidName<true>(name); }
bool IsValidLabelName(std::string_view name) noexcept { return IsValidName<false>(name); }
bool SanitizeMetricName(std::string& name) { return Sanitize<true>(name); }
bool SanitizeLabelName(std::string& name) { return Sanitize<false>(name); }

}  // namespace metricsd
