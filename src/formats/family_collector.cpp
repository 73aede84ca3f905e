#include "formats/family_collector.h"

#include <string>

namespace metricsd {

void FamilyCollector::OnSample(const FamilyView& family, std::string_view name,
                               std::span<const LabelView> labels, double value,
                               std::int64_t timestamp_ms, std::string_view /*series*/) {
  if (family.ordinal >= position_.size()) {
    position_.resize(family.ordinal + 1, kAbsent);
  }
  std::size_t& position = position_[family.ordinal];
  if (position == kAbsent) {
    position = out_.size();
    MetricFamily& created = out_.emplace_back();
    created.name.assign(family.name);
    created.help.assign(family.help);
    created.type = family.type;
  }
  Sample& sample = out_[position].samples.emplace_back();
  sample.name.assign(name);
  sample.value = value;
  sample.timestamp_ms = timestamp_ms;
  sample.labels.reserve(labels.size());
  for (const LabelView& label : labels) {
    sample.labels.push_back(Label{std::string(label.name), std::string(label.value)});
  }
}

void FamilyCollector::OnHelpAfterSamples(const FamilyView& family) {
  if (family.ordinal < position_.size() && position_[family.ordinal] != kAbsent) {
    out_[position_[family.ordinal]].help.assign(family.help);
  }
}

}  // namespace metricsd
