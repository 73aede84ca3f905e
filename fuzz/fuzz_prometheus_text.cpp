// Prometheus text parser: arbitrary bytes must never crash, leak or break output invariants;
// the output then goes through the scrape post-processing and format detection.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/exposition_parser.h"
#include "formats/scrape_format.h"
#include "formats/target_labels.h"
#include "fuzz_checks.h"

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
  (void)DetectFormat(body.substr(0, std::min<std::size_t>(body.size(), 40)), body);
  return 0;
}
