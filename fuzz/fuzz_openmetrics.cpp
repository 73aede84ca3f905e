// OpenMetrics parser: all-or-nothing results, output invariants, and agreement with the text
// parser on what an accepted exposition contains.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "formats/exposition_parser.h"
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<MetricFamily> out;
  out.push_back(MetricFamily{"existing", "", MetricType::kGauge, {}});
  ParseStats stats;
  Status status = ParseOpenMetrics(body, 1000, out, stats);
  if (!status.ok()) {
    fuzz::Check(out.size() == 1 && stats.samples == 0 && stats.invalid_lines == 1);
    fuzz::Check(!status.error().empty() && !stats.first_error.empty());
    return 0;
  }
  fuzz::Check(stats.invalid_lines == 0);
  fuzz::Check(fuzz::CheckFamilies(out, 1) == stats.samples);
  // Families are never interleaved in a valid exposition, so names are unique.
  for (std::size_t i = 1; i < out.size(); ++i) {
    for (std::size_t j = i + 1; j < out.size(); ++j) {
      fuzz::Check(out[i].name != out[j].name);
    }
    if (out.size() > 64) {
      break;  // keep the quadratic check cheap on big inputs
    }
  }
  // The lenient text parser never crashes on what OpenMetrics accepted.
  std::vector<MetricFamily> text;
  ParseStats text_stats;
  ParsePrometheusText(body, 1000, text, text_stats);
  fuzz::Check(fuzz::CheckFamilies(text, 0) == text_stats.samples);
  return 0;
}
