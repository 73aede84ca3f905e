#include "formats/prometheus_text_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace metricsd {
namespace {

TEST(PrometheusTextWriter, EscapesAndFormatsValues) {
  std::vector<MetricFamily> families{
      FamilyBuilder("x_bytes", "Help with \\ and\nnewline.", MetricType::kGauge, 0)
          .Add(1.5, {{"a", "q\"uote\\back\nline"}})
          .Add(std::numeric_limits<double>::quiet_NaN(), {{"a", "nan"}})
          .Add(std::numeric_limits<double>::infinity(), {{"a", "inf"}})
          .Add(1e21)
          .Build()};
  std::string out;
  AppendPrometheusText(families, out);
  EXPECT_EQ(out,
            "# HELP x_bytes Help with \\\\ and\\nnewline.\n"
            "# TYPE x_bytes gauge\n"
            "x_bytes{a=\"q\\\"uote\\\\back\\nline\"} 1.5\n"
            "x_bytes{a=\"nan\"} NaN\n"
            "x_bytes{a=\"inf\"} +Inf\n"
            "x_bytes 1e+21\n");
}

TEST(PrometheusTextWriter, OneHeaderPerNameAcrossLists) {
  std::vector<MetricFamily> system{
      FamilyBuilder("up_total", "h", MetricType::kCounter, 0).Add(1, {{"s", "1"}}).Build()};
  std::vector<MetricFamily> scraped{
      FamilyBuilder("a_metric", "", MetricType::kUntyped, 0).Add(2).Build(),
      FamilyBuilder("up_total", "h", MetricType::kCounter, 0).Add(3, {{"s", "2"}}).Build()};
  std::string out;
  const std::span<const MetricFamily> parts[] = {system, scraped};
  AppendPrometheusText(std::span<const std::span<const MetricFamily>>(parts), out);
  EXPECT_EQ(out,
            "# TYPE a_metric untyped\n"
            "a_metric 2\n"
            "# HELP up_total h\n"
            "# TYPE up_total counter\n"
            "up_total{s=\"1\"} 1\n"
            "up_total{s=\"2\"} 3\n");
}

TEST(PrometheusTextWriter, OpenMetricsCounterFamilyUsesTheSampleName) {
  MetricFamily family{.name = "requests",
                      .help = "",
                      .type = MetricType::kCounter,
                      .samples = {Sample{"requests_total", {}, 7, 0}}};
  std::string out;
  AppendPrometheusText(std::vector<MetricFamily>{family}, out);
  EXPECT_EQ(out, "# TYPE requests_total counter\nrequests_total 7\n");
}

}  // namespace
}  // namespace metricsd
