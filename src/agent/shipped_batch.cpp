#include "agent/shipped_batch.h"

#include <algorithm>
#include <utility>

namespace metricsd {
namespace {

constexpr std::string_view kInstance = "instance";

bool ByName(const LabelView& a, const LabelView& b) { return a.name < b.name; }

}  // namespace

ShippedBatch::ShippedBatch(std::string instance, Labels global)
    : instance_(std::move(instance)), global_(std::move(global)) {
  SortLabels(global_);
}

std::span<const LabelView> ShippedBatch::Decorate(std::span<const LabelView> own) {
  if (instance_.empty() && global_.empty()) {
    return own;
  }
  std::span<const LabelView> labels = own;
  if (!instance_.empty()) {
    own_.assign(own.begin(), own.end());
    auto at = std::lower_bound(own_.begin(), own_.end(), LabelView{kInstance, {}}, ByName);
    if (at != own_.end() && at->name == kInstance) {
      // The sample's own instance moves aside under the first exported_ name it does not use.
      std::size_t depth = 0;
      for (;; ++depth) {
        if (depth == exported_names_.size()) {
          exported_names_.push_back("exported_" +
                                    (depth == 0 ? std::string(kInstance) : exported_names_.back()));
        }
        const std::string& candidate = exported_names_[depth];
        if (std::none_of(own_.begin(), own_.end(),
                         [&](const LabelView& l) { return l.name == candidate; })) {
          break;
        }
      }
      LabelView moved{exported_names_[depth], at->value};
      at->value = instance_;
      own_.insert(std::lower_bound(own_.begin(), own_.end(), moved, ByName), moved);
    } else {
      own_.insert(at, LabelView{kInstance, instance_});
    }
    labels = own_;
  }
  if (global_.empty()) {
    return labels;
  }
  merged_.clear();
  std::size_t j = 0;
  for (const LabelView& label : labels) {
    while (j < global_.size() && std::string_view(global_[j].name) < label.name) {
      merged_.push_back(LabelView{global_[j].name, global_[j].value});
      ++j;
    }
    if (j < global_.size() && global_[j].name == label.name) {
      ++j;  // the sample's own label wins
    }
    merged_.push_back(label);
  }
  for (; j < global_.size(); ++j) {
    merged_.push_back(LabelView{global_[j].name, global_[j].value});
  }
  return merged_;
}

void ShippedBatch::Add(std::string_view family, std::string_view help, MetricType type,
                       std::string_view name, std::span<const LabelView> labels, double value,
                       std::int64_t timestamp_ms) {
  writer_.Add(family, help, type, name, Decorate(labels), value, timestamp_ms);
}

void ShippedBatch::AddFamilies(const std::vector<MetricFamily>& families) {
  std::vector<LabelView> views;
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      views.clear();
      for (const Label& label : sample.labels) {
        views.push_back(LabelView{label.name, label.value});
      }
      Add(family.name, family.help, family.type, sample.name, views, sample.value,
          sample.timestamp_ms);
    }
  }
}

queue::EncodedBatch ShippedBatch::Take() {
  queue::EncodedBatch encoded;
  encoded.samples = static_cast<std::uint32_t>(writer_.samples());
  encoded.min_timestamp_ms = writer_.min_timestamp_ms();
  encoded.payload = writer_.Finish();
  return encoded;
}

}  // namespace metricsd
