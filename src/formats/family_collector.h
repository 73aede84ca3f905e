// FamilyCollector: the family form of a parsed exposition, as a SampleVisitor. It groups the
// visited samples into MetricFamily values appended to `out` (one per family with samples, in
// the order of their first samples, each sample owning its strings), for the paths that keep
// or print families (/metrics, -once). The scrape path streams samples instead and never
// builds these.
//
// One collector per parsed body: it knows families by their ordinal in that body.
#pragma once

#include <cstddef>
#include <vector>

#include "core/metric.h"
#include "formats/exposition_parser.h"

namespace metricsd {

class FamilyCollector final : public SampleVisitor {
 public:
  explicit FamilyCollector(std::vector<MetricFamily>& out) : out_(out), first_(out.size()) {}

  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view series) override;
  void OnHelpAfterSamples(const FamilyView& family) override;

  // Removes every family this collector appended (an OpenMetrics body rejected late).
  void Discard() { out_.resize(first_); }

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

  std::vector<MetricFamily>& out_;
  const std::size_t first_;
  std::vector<std::size_t> position_;  // family ordinal -> its index in out_, or kAbsent
};

}  // namespace metricsd
