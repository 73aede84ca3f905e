#include "core/metric.h"

#include <gtest/gtest.h>

namespace metricsd {
namespace {

TEST(SortLabels, SortsByteOrderAndKeepsLastDuplicate) {
  Labels labels{{"b", "1"}, {"Zone", "z"}, {"__name__", "m"}, {"b", "2"}, {"a", "x"}};
  SortLabels(labels);
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0].name, "Zone");  // 'Z' (0x5A) < '_' (0x5F) < 'a'
  EXPECT_EQ(labels[1].name, "__name__");
  EXPECT_EQ(labels[2].name, "a");
  EXPECT_EQ(labels[3], (Label{"b", "2"}));
}

TEST(SetLabel, InsertsInOrderAndReplaces) {
  Labels labels{{"a", "1"}, {"c", "3"}};
  SetLabel(labels, "b", "2");
  SetLabel(labels, "c", "x");
  EXPECT_EQ(labels, (Labels{{"a", "1"}, {"b", "2"}, {"c", "x"}}));
}

TEST(Names, Validity) {
  EXPECT_TRUE(IsValidMetricName("http_requests_total"));
  EXPECT_TRUE(IsValidMetricName("ns:rule:rate5m"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("req.rate-1"));
  EXPECT_TRUE(IsValidLabelName("_x9"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(Names, Sanitize) {
  std::string name = "app_req.rate-1";
  EXPECT_TRUE(SanitizeMetricName(name));
  EXPECT_EQ(name, "app_req_rate_1");
  std::string digit = "9lives";
  EXPECT_TRUE(SanitizeLabelName(digit));
  EXPECT_EQ(digit, "_9lives");
  std::string fine = "ok_name";
  EXPECT_FALSE(SanitizeLabelName(fine));
}

TEST(FamilyBuilder, StampsEverySample) {
  auto family = FamilyBuilder("x_bytes", "help", MetricType::kGauge, 1234)
                    .Add(1, {{"a", "b"}})
                    .Add(2)
                    .Build();
  ASSERT_EQ(family.samples.size(), 2u);
  EXPECT_EQ(family.samples[0].name, "x_bytes");
  EXPECT_EQ(family.samples[1].timestamp_ms, 1234);
  EXPECT_EQ(MetricTypeName(family.type), "gauge");
}

}  // namespace
}  // namespace metricsd
