// Prometheus text parser: arbitrary bytes must never crash, leak or break output invariants;
// the output then goes through the scrape post-processing, the straight-to-text rendering of
// /metrics (which must equal the families' text) and format detection.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "formats/exposition_parser.h"
#include "formats/prometheus_text_writer.h"
#include "formats/scrape_format.h"
#include "formats/target_labels.h"
#include "fuzz_checks.h"

namespace {

// The streaming path (visitor + TargetLabeler), kept as samples for comparison.
struct Streamed final : metricsd::SampleVisitor {
  Streamed() : labeler("app_", "target", metricsd::Labels{{"endpoint", "x"}, {"zone", "a"}}) {}
  void OnSample(const metricsd::FamilyView&, std::string_view name,
                std::span<const metricsd::LabelView> labels, double value,
                std::int64_t timestamp_ms, std::string_view /*series*/) override {
    labeler.Apply(name, labels);
    metricsd::Sample& s = samples.emplace_back();
    s.name = labeler.name();
    for (const metricsd::LabelView& l : labeler.labels()) {
      s.labels.push_back(metricsd::Label{std::string(l.name), std::string(l.value)});
    }
    s.value = value;
    s.timestamp_ms = timestamp_ms;
  }
  metricsd::TargetLabeler labeler;
  std::vector<metricsd::Sample> samples;
};

// The /metrics path for a kept body: the same labeling, straight to text.
struct Rendered final : metricsd::SampleVisitor {
  explicit Rendered(metricsd::TextExpositionBuilder& out)
      : labeler("app_", "target", metricsd::Labels{{"endpoint", "x"}, {"zone", "a"}}), out(out) {}
  void OnSample(const metricsd::FamilyView& family, std::string_view name,
                std::span<const metricsd::LabelView> labels, double value,
                std::int64_t timestamp_ms, std::string_view /*series*/) override {
    labeler.Apply(name, labels);
    out.AddSample(Prefixed(family), labeler.name(), labeler.labels(), value, timestamp_ms);
  }
  void OnHelpAfterSamples(const metricsd::FamilyView& family) override {
    out.SetHelp(Prefixed(family));
  }
  metricsd::FamilyView Prefixed(const metricsd::FamilyView& family) {
    prefixed = "app_";
    prefixed += family.name;
    return metricsd::FamilyView{prefixed, family.help, family.type, family.ordinal};
  }
  metricsd::TargetLabeler labeler;
  metricsd::TextExpositionBuilder& out;
  std::string prefixed;
};

bool ApartForTest(std::string_view family) { return family.starts_with("app_a"); }

void SortSamples(std::vector<metricsd::Sample>& samples) {
  std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.labels, a.timestamp_ms) < std::tie(b.name, b.labels, b.timestamp_ms);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<MetricFamily> out;
  out.push_back(MetricFamily{"existing", "", MetricType::kGauge, {}});
  ParseStats stats;
  ParsePrometheusText(body, 1000, out, stats);
  fuzz::Check(!out.empty() && out[0].name == "existing");
  fuzz::Check(fuzz::CheckFamilies(out, 1) == stats.samples);
  fuzz::Check(stats.invalid_lines == 0 || !stats.first_error.empty());

  ApplyTargetLabels(std::span(out).subspan(1), "app_", "target",
                    Labels{Label{"endpoint", "x"}, Label{"zone", "a"}});
  for (std::size_t i = 1; i < out.size(); ++i) {
    for (const Sample& sample : out[i].samples) {
      fuzz::Check(sample.name.starts_with("app_"));
      bool has_endpoint = false;
      for (std::size_t k = 0; k < sample.labels.size(); ++k) {
        fuzz::Check(k == 0 || sample.labels[k - 1].name < sample.labels[k].name);
        if (sample.labels[k].name == "endpoint") {
          has_endpoint = sample.labels[k].value == "target";
        }
      }
      fuzz::Check(has_endpoint);
    }
  }
  // The streaming path sees exactly the same samples, with the same final labels.
  Streamed streamed;
  ParseStats streamed_stats;
  ParsePrometheusText(body, 1000, streamed, streamed_stats);
  fuzz::Check(streamed_stats.samples == stats.samples);
  fuzz::Check(streamed_stats.invalid_lines == stats.invalid_lines);
  std::vector<Sample> materialized;
  for (std::size_t i = 1; i < out.size(); ++i) {
    materialized.insert(materialized.end(), out[i].samples.begin(), out[i].samples.end());
  }
  SortSamples(materialized);
  SortSamples(streamed.samples);
  fuzz::Check(materialized.size() == streamed.samples.size());
  for (std::size_t i = 0; i < materialized.size(); ++i) {
    fuzz::Check(materialized[i].name == streamed.samples[i].name &&
                materialized[i].labels == streamed.samples[i].labels);
  }
  // Rendered straight to text (twice, as two targets with the same names), the body gives
  // the text of its families, and the families kept apart are the same.
  std::vector<MetricFamily> twice(out.begin() + 1, out.end());
  twice.insert(twice.end(), out.begin() + 1, out.end());
  std::vector<MetricFamily> rendered_families;
  std::vector<MetricFamily> apart_families;
  for (MetricFamily& family : twice) {
    (ApartForTest(family.name) ? apart_families : rendered_families).push_back(family);
  }
  std::string expected;
  AppendPrometheusText(rendered_families, expected);
  TextExpositionBuilder builder(ApartForTest);
  for (int i = 0; i < 2; ++i) {
    Rendered rendered(builder);
    ParseStats rendered_stats;
    builder.BeginSource();
    ParsePrometheusText(body, 1000, rendered, rendered_stats);
  }
  fuzz::Check(builder.Finish() == expected);
  std::vector<MetricFamily> apart = builder.TakeApart();
  fuzz::Check(apart.size() == apart_families.size());
  for (std::size_t i = 0; i < apart.size(); ++i) {
    fuzz::Check(apart[i].name == apart_families[i].name &&
                apart[i].help == apart_families[i].help &&
                apart[i].samples.size() == apart_families[i].samples.size());
  }
  (void)DetectFormat(body.substr(0, std::min<std::size_t>(body.size(), 40)), body);
  return 0;
}
