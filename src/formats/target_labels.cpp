#include "formats/target_labels.h"

#include "core/bytes.h"

#include <algorithm>
#include <string>
#include <utility>

namespace metricsd {
namespace {

constexpr std::string_view kMetricNameLabel = "__name__";

Labels::iterator FindLabel(Labels& labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  return it != labels.end() && it->name == name ? it : labels.end();
}

Labels TargetLabelSet(std::string_view endpoint, const Labels& extra_labels) {
  Labels target;
  target.reserve(extra_labels.size() + 1);
  for (const Label& label : extra_labels) {
    if (!label.value.empty()) {
      target.push_back(label);
    }
  }
  SortLabels(target);
  if (!endpoint.empty()) {
    SetLabel(target, "endpoint", endpoint);
  } else {
    auto it = FindLabel(target, "endpoint");
    if (it != target.end()) {
      target.erase(it);
    }
  }
  return target;
}

// Sets the target labels on one sample's (sorted) labels; a scraped label they replace is
// kept as exported_<name>.
void ApplyToLabels(Labels& labels, const Labels& target, Labels& conflicts) {
  labels.reserve(labels.size() + target.size());
  conflicts.clear();
  for (const Label& label : target) {
    auto it = FindLabel(labels, label.name);
    if (it == labels.end()) {
      SetLabel(labels, label.name, label.value);
    } else {
      conflicts.push_back(Label{it->name, std::move(it->value)});
      it->value = label.value;
    }
  }
  // As Prometheus: shortest names first, each gets "exported_" until the name is free.
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const Label& a, const Label& b) { return a.name.size() < b.name.size(); });
  for (Label& conflict : conflicts) {
    std::string name = std::move(conflict.name);
    do {
      name.insert(0, "exported_");
    } while (FindLabel(labels, name) != labels.end());
    SetLabel(labels, name, conflict.value);
  }
}

// Merges two sorted label lists into `out`. Returns false at the first name they share
// (the caller then takes the slow path).
template <typename A, typename B>
bool MergeSorted(std::span<const A> first, std::span<const B> second, std::vector<LabelView>& out) {
  out.clear();
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < first.size() || j < second.size()) {
    if (j == second.size() || (i < first.size() && LessBytes(first[i].name, second[j].name))) {
      out.push_back(LabelView{first[i].name, first[i].value});
      ++i;
    } else if (i == first.size() || LessBytes(second[j].name, first[i].name)) {
      out.push_back(LabelView{second[j].name, second[j].value});
      ++j;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

void ApplyTargetLabels(std::span<MetricFamily> families, std::string_view prefix,
                       std::string_view endpoint, const Labels& extra_labels) {
  const Labels target = TargetLabelSet(endpoint, extra_labels);
  Labels conflicts;
  for (MetricFamily& family : families) {
    if (!prefix.empty()) {
      family.name.insert(0, prefix);
    }
    for (Sample& sample : family.samples) {
      if (!prefix.empty()) {
        sample.name.insert(0, prefix);
      }
      ApplyToLabels(sample.labels, target, conflicts);
    }
  }
}

RelabelVerdict RelabelFamilies(std::vector<MetricFamily>& families, const RelabelProgram& program) {
  if (program.empty()) {
    return RelabelVerdict::kKeep;
  }
  RelabelScratch scratch;
  std::vector<LabelView> views;
  Labels out;
  RelabelVerdict verdict = RelabelVerdict::kKeep;
  for (MetricFamily& family : families) {
    std::size_t kept = 0;
    for (Sample& sample : family.samples) {
      ViewLabels(sample.labels, views);
      RelabelOutcome outcome = program.Apply(sample.name, views, scratch, out);
      if (outcome == RelabelOutcome::kDropped) {
        continue;
      }
      if (outcome == RelabelOutcome::kChanged) {
        auto name = std::find_if(out.begin(), out.end(),
                                 [](const Label& l) { return l.name == kMetricNameLabel; });
        if (name == out.end()) {
          verdict = RelabelVerdict::kNoName;
          continue;
        }
        sample.name = std::move(name->value);
        out.erase(name);
        sample.labels = out;
      }
      if (&family.samples[kept] != &sample) {
        family.samples[kept] = std::move(sample);
      }
      ++kept;
    }
    family.samples.resize(kept);
  }
  std::erase_if(families, [](const MetricFamily& f) { return f.samples.empty(); });
  return verdict;
}

TargetLabeler::TargetLabeler(std::string_view prefix, std::string_view endpoint,
                             const Labels& extra_labels, RelabelProgram relabel)
    : prefix_(prefix),
      target_(TargetLabelSet(endpoint, extra_labels)),
      relabel_(std::move(relabel)) {}

RelabelVerdict TargetLabeler::Apply(std::string_view name, std::span<const LabelView> scraped) {
  if (prefix_.empty()) {
    name_ = name;
  } else {
    name_buffer_.assign(prefix_);
    name_buffer_.append(name);
    name_ = name_buffer_;
  }
  if (!MergeSorted<Label, LabelView>(target_, scraped, merged_)) {
    // A scraped label collides with one metricsd sets: the general rules, on owned copies.
    slow_.clear();
    for (const LabelView& l : scraped) {
      slow_.push_back(Label{std::string(l.name), std::string(l.value)});
    }
    ApplyToLabels(slow_, target_, conflicts_);
    merged_.clear();
    for (const Label& l : slow_) {
      merged_.push_back(LabelView{l.name, l.value});
    }
  }
  if (relabel_.empty()) {
    return RelabelVerdict::kKeep;
  }
  switch (relabel_.Apply(name_, merged_, relabel_scratch_, relabeled_)) {
    case RelabelOutcome::kUnchanged:
      return RelabelVerdict::kKeep;
    case RelabelOutcome::kDropped:
      return RelabelVerdict::kDropped;
    case RelabelOutcome::kChanged:
      break;
  }
  merged_.clear();
  bool named = false;
  for (const Label& l : relabeled_) {
    if (l.name == kMetricNameLabel) {
      name_ = l.value;
      named = true;
    } else {
      merged_.push_back(LabelView{l.name, l.value});
    }
  }
  return named ? RelabelVerdict::kKeep : RelabelVerdict::kNoName;
}

}  // namespace metricsd
