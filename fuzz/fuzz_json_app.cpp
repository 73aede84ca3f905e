// JSON application format: arbitrary bytes must never crash; rejected documents leave the
// output untouched; accepted ones give one valid gauge per name.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "formats/json_app.h"
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace metricsd;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<MetricFamily> out;
  out.push_back(MetricFamily{"existing", "", MetricType::kGauge, {}});
  ParseStats stats;
  JsonAppLimits limits;
  limits.max_depth = 8;
  limits.max_name_length = 64;
  limits.max_samples = 1000;
  Status status = ParseJsonApp(body, "app_", 1000, out, stats, limits);
  if (!status.ok()) {
    fuzz::Check(out.size() == 1 && stats.samples == 0 && stats.invalid_lines == 1);
    return 0;
  }
  fuzz::Check(out.size() == 1 + stats.samples);
  fuzz::Check(stats.samples <= limits.max_samples);
  std::unordered_set<std::string_view> names;
  for (std::size_t i = 1; i < out.size(); ++i) {
    const MetricFamily& family = out[i];
    fuzz::Check(family.type == MetricType::kGauge);
    fuzz::Check(IsValidMetricName(family.name));
    fuzz::Check(family.name.starts_with("app_"));
    fuzz::Check(family.name.size() <= limits.max_name_length + 1);
    fuzz::Check(family.samples.size() == 1 && family.samples[0].name == family.name);
    fuzz::Check(family.samples[0].labels.empty());
    fuzz::Check(names.insert(family.name).second);
  }
  return 0;
}
