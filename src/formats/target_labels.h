// Post-processing of freshly scraped families, before they join a snapshot: the metric-name
// prefix, the `endpoint` label and the per-endpoint extra labels.
//
// Prometheus' honor_labels=false rule applies to every label metricsd sets: a scraped label
// with the same name is kept as exported_<name> (exported_exported_<name> if that is taken
// too), so the target cannot overwrite `endpoint`, and no scraped data is lost. `endpoint`
// wins over an extra label of the same name. Empty values are not set (remote write forbids
// them). Label sets stay sorted.
//
// The prefix is prepended to family and sample names as given ("" keeps them). ParseJsonApp
// applies its own prefix, so pass "" here for JSON bodies.
//
// Then the endpoint's metric relabeling (Prometheus' metric_relabel_configs) runs on the
// result, the name counting as the label __name__: it may drop the sample or change its name
// and labels. A rule that removes __name__ makes the sample unusable; Prometheus fails such a
// scrape, and so do the callers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "formats/exposition_parser.h"
#include "relabel/relabel.h"

namespace metricsd {

void ApplyTargetLabels(std::span<MetricFamily> families, std::string_view prefix,
                       std::string_view endpoint, const Labels& extra_labels);

enum class RelabelVerdict : std::uint8_t {
  kKeep,     // the sample stays, with the (possibly changed) name and labels
  kDropped,  // a rule dropped it
  kNoName,   // a rule removed __name__: the scrape must fail
};

// Relabels every sample of `families` in place: dropped samples go, and so do families left
// without samples. A sample whose name a rule removed goes too, and the result is then
// kNoName (a scrape fails on it; the host collectors keep the rest), else kKeep.
RelabelVerdict RelabelFamilies(std::vector<MetricFamily>& families, const RelabelProgram& program);

// The same rules for one sample at a time, over views, for the streaming path: no allocation
// in the common case (no scraped label collides with one metricsd sets). Not thread-safe:
// one per thread.
class TargetLabeler {
 public:
  TargetLabeler(std::string_view prefix, std::string_view endpoint, const Labels& extra_labels,
                RelabelProgram relabel = {});

  // The final name and label set of a scraped sample (on kKeep); both views are valid until
  // the next call. `scraped` must be sorted by name, unique, without empty values.
  RelabelVerdict Apply(std::string_view name, std::span<const LabelView> scraped);
  std::string_view name() const noexcept { return name_; }
  std::span<const LabelView> labels() const noexcept { return merged_; }

 private:
  std::string prefix_;
  Labels target_;  // endpoint + extra labels, sorted, non-empty values
  std::string name_buffer_;
  std::string_view name_;
  std::vector<LabelView> merged_;
  Labels slow_;  // owns the labels of a sample with collisions
  Labels conflicts_;
  RelabelProgram relabel_;
  RelabelScratch relabel_scratch_;
  Labels relabeled_;  // owns the labels of a sample the relabeling changed
};

}  // namespace metricsd
