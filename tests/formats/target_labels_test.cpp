#include <gtest/gtest.h>

#include <vector>

#include "formats/exposition_parser.h"
#include "formats/target_labels.h"
#include "test_util.h"

namespace metricsd {
namespace {

std::vector<MetricFamily> Parse(std::string_view text) {
  std::vector<MetricFamily> out;
  ParseStats stats;
  ParsePrometheusText(text, 0, out, stats);
  return out;
}

TEST(TargetLabels, PrefixEndpointAndExtraLabels) {
  auto families = Parse("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n");
  ApplyTargetLabels(families, "app_", "web", L({{"zone", "eu"}, {"az", "1"}}));
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "app_h");
  EXPECT_EQ(families[0].samples[0].name, "app_h_bucket");
  EXPECT_EQ(families[0].samples[0].labels,
            L({{"az", "1"}, {"endpoint", "web"}, {"le", "1"}, {"zone", "eu"}}));
  EXPECT_EQ(families[0].samples[2].name, "app_h_count");
  EXPECT_EQ(families[0].samples[2].labels, L({{"az", "1"}, {"endpoint", "web"}, {"zone", "eu"}}));
}

TEST(TargetLabels, EmptyPrefixKeepsNames) {
  auto families = Parse("node_load1 1\n");
  ApplyTargetLabels(families, "", "node", {});
  EXPECT_EQ(families[0].name, "node_load1");
  EXPECT_EQ(families[0].samples[0].labels, L({{"endpoint", "node"}}));
}

TEST(TargetLabels, ScrapedEndpointBecomesExportedEndpoint) {
  auto families = Parse(
      "a{endpoint=\"theirs\"} 1\n"
      "b{endpoint=\"theirs\",exported_endpoint=\"older\"} 1\n"
      "c{zone=\"scraped\"} 1\n");
  ApplyTargetLabels(families, "", "ours", L({{"zone", "configured"}}));
  EXPECT_EQ(families[0].samples[0].labels,
            L({{"endpoint", "ours"}, {"exported_endpoint", "theirs"}, {"zone", "configured"}}));
  EXPECT_EQ(families[1].samples[0].labels, L({{"endpoint", "ours"},
                                              {"exported_endpoint", "older"},
                                              {"exported_exported_endpoint", "theirs"},
                                              {"zone", "configured"}}));
  EXPECT_EQ(families[2].samples[0].labels,
            L({{"endpoint", "ours"}, {"exported_zone", "scraped"}, {"zone", "configured"}}));
}

TEST(TargetLabels, EndpointWinsOverExtraAndEmptyValuesAreNotSet) {
  auto families = Parse("a 1\n");
  ApplyTargetLabels(families, "", "ours", L({{"endpoint", "extra"}, {"empty", ""}}));
  EXPECT_EQ(families[0].samples[0].labels, L({{"endpoint", "ours"}}));
  families = Parse("a 1\n");
  ApplyTargetLabels(families, "", "", L({{"endpoint", "extra"}}));
  EXPECT_TRUE(families[0].samples[0].labels.empty());
}

TEST(TargetLabels, AppliesOnlyToTheGivenSpan) {
  auto families = Parse("a 1\nb 1\n");
  ApplyTargetLabels(std::span(families).subspan(1), "p_", "x", {});
  EXPECT_EQ(families[0].name, "a");
  EXPECT_TRUE(families[0].samples[0].labels.empty());
  EXPECT_EQ(families[1].name, "p_b");
}

}  // namespace
}  // namespace metricsd
