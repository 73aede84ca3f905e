#include "formats/prometheus_text_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "formats/exposition_parser.h"

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

// Passes each parsed sample to the builder as it comes, as the scrape path does.
class ToBuilder final : public SampleVisitor {
 public:
  explicit ToBuilder(TextExpositionBuilder& out) : out_(out) {}
  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view) override {
    out_.AddSample(family, name, labels, value, timestamp_ms);
  }
  void OnHelpAfterSamples(const FamilyView& family) override { out_.SetHelp(family); }

 private:
  TextExpositionBuilder& out_;
};

bool StartsWithKept(std::string_view family) { return family.starts_with("kept_"); }

TEST(TextExpositionBuilder, GivesTheTextOfTheEquivalentFamilies) {
  // Two bodies sharing names, a family split in two (text allows it), HELP after samples,
  // an OpenMetrics counter with _created (header: the family), a histogram, and a family
  // kept apart.
  const std::string_view first =
      "# TYPE shared_total counter\n"
      "shared_total{b=\"1\"} 1\n"
      "zeta 5\n"
      "# HELP zeta Late help.\n"
      "kept_x{k=\"v\"} 2\n"
      "# TYPE lat histogram\n"
      "lat_bucket{le=\"+Inf\"} 3\n"
      "lat_sum 1.5\n"
      "lat_count 3\n"
      "zeta{z=\"again\"} 6\n";
  const std::string_view openmetrics =
      "# TYPE shared counter\n"
      "# HELP shared From OpenMetrics.\n"
      "shared_total{b=\"2\"} 2\n"
      "shared_created{b=\"2\"} 1000\n"
      "# TYPE alpha gauge\n"
      "alpha 0.5\n"
      "# EOF\n";
  std::vector<MetricFamily> families;
  ParseStats stats;
  ParsePrometheusText(first, 0, families, stats);
  ASSERT_TRUE(ParseOpenMetrics(openmetrics, 0, families, stats).ok());
  std::vector<MetricFamily> json{
      FamilyBuilder("shared_total", "", MetricType::kCounter, 0).Add(3, {{"b", "3"}}).Build()};
  std::vector<MetricFamily> rendered;
  std::vector<MetricFamily> apart;
  for (const std::vector<MetricFamily>* list : {&families, &json}) {
    for (const MetricFamily& family : *list) {
      (StartsWithKept(family.name) ? apart : rendered).push_back(family);
    }
  }
  std::string expected;
  AppendPrometheusText(rendered, expected);

  TextExpositionBuilder builder(StartsWithKept);
  ToBuilder visitor(builder);
  builder.BeginSource();
  ParsePrometheusText(first, 0, visitor, stats);
  builder.BeginSource();
  ASSERT_TRUE(ParseOpenMetrics(openmetrics, 0, visitor, stats).ok());
  // A body rejected late leaves nothing behind.
  builder.BeginSource();
  EXPECT_FALSE(ParseOpenMetrics("# TYPE bad gauge\nbad 1\nkept_y 1\n", 0, visitor, stats).ok());
  builder.DiscardSource();
  builder.AddFamilies(json);
  EXPECT_EQ(builder.Finish(), expected);
  std::vector<MetricFamily> got_apart = builder.TakeApart();
  ASSERT_EQ(got_apart.size(), 1u);
  EXPECT_EQ(got_apart[0].name, "kept_x");
  ASSERT_EQ(got_apart[0].samples.size(), 1u);
  EXPECT_EQ(got_apart[0].samples[0].labels, (Labels{{"k", "v"}}));
  EXPECT_NE(expected.find("# HELP zeta Late help.\n# TYPE zeta untyped\nzeta 5\n"
                          "zeta{z=\"again\"} 6\n"),
            std::string::npos)
      << expected;
  EXPECT_NE(expected.find("# TYPE shared counter\nshared_total{b=\"2\"} 2\n"), std::string::npos)
      << expected;
}

TEST(TextExpositionBuilder, BodiesLargerThanAChunkAndADiscardedOne) {
  // Three bodies of about 1 MB each, their families interleaved by name across bodies, and a
  // rejected body between them that spans several chunks.
  std::vector<std::string> bodies;
  for (int b = 0; b < 3; ++b) {
    std::string body;
    for (int f = 0; f < 40; ++f) {
      body += "# TYPE fam_" + std::to_string(f * 3 + b % 2) + " gauge\n";
      for (int i = 0; i < 600; ++i) {
        body += "fam_" + std::to_string(f * 3 + b % 2) + "{body=\"" + std::to_string(b) +
                "\",i=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
      }
    }
    bodies.push_back(body + "# EOF\n");
  }
  std::vector<MetricFamily> families;
  ParseStats stats;
  TextExpositionBuilder builder;
  ToBuilder visitor(builder);
  for (const std::string& body : bodies) {
    ASSERT_TRUE(ParseOpenMetrics(body, 0, families, stats).ok());
    builder.BeginSource();
    ASSERT_TRUE(ParseOpenMetrics(body, 0, visitor, stats).ok());
    builder.BeginSource();
    std::string rejected = body.substr(0, body.size() - 6) + "late_error{ 1\n# EOF\n";
    ASSERT_FALSE(ParseOpenMetrics(rejected, 0, visitor, stats).ok());
    builder.DiscardSource();
  }
  std::string expected;
  AppendPrometheusText(families, expected);
  ASSERT_GT(expected.size(), 3u * 256 * 1024);
  EXPECT_TRUE(builder.Finish() == expected);
}

}  // namespace
}  // namespace metricsd
