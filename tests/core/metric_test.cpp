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

// Two ticks of a small collector: a gauge without labels, an optional family, and a
// labelled counter over `devices`.
void WriteTick(std::vector<MetricFamily>& families, std::int64_t ts, double value, bool optional,
               const std::vector<Labels>& devices) {
  FamilyWriter out(families, ts);
  out.Family("x_count", "Count.", MetricType::kGauge).Add(value);
  if (optional) {
    out.Family("x_optional_seconds", "Sometimes there.", MetricType::kGauge).Add(value * 2);
  }
  out.Family("x_device_bytes_total", "Bytes per device.", MetricType::kCounter);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    out.Add(value + static_cast<double>(i), devices[i]);
  }
  out.Finish();
}

std::vector<MetricFamily> Built(std::int64_t ts, double value, bool optional,
                                const std::vector<Labels>& devices) {
  std::vector<MetricFamily> out;
  out.push_back(FamilyBuilder("x_count", "Count.", MetricType::kGauge, ts).Add(value).Build());
  if (optional) {
    out.push_back(FamilyBuilder("x_optional_seconds", "Sometimes there.", MetricType::kGauge, ts)
                      .Add(value * 2)
                      .Build());
  }
  FamilyBuilder counter("x_device_bytes_total", "Bytes per device.", MetricType::kCounter, ts);
  for (std::size_t i = 0; i < devices.size(); ++i) {
    counter.Add(value + static_cast<double>(i), devices[i]);
  }
  if (!counter.empty()) {
    out.push_back(counter.Build());
  }
  return out;
}

void ExpectSame(const std::vector<MetricFamily>& got, const std::vector<MetricFamily>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, want[i].name);
    EXPECT_EQ(got[i].help, want[i].help);
    EXPECT_EQ(got[i].type, want[i].type);
    EXPECT_EQ(got[i].samples, want[i].samples) << got[i].name;
  }
}

const std::vector<Labels> kTwoDevices{{{"device", "sda"}}, {{"device", "nvme0n1"}}};

TEST(FamilyWriter, WritesWhatFamilyBuilderBuilds) {
  std::vector<MetricFamily> families;
  WriteTick(families, 1000, 5, true, kTwoDevices);
  ExpectSame(families, Built(1000, 5, true, kTwoDevices));
}

TEST(FamilyWriter, SameSeriesAreUpdatedInPlace) {
  std::vector<MetricFamily> families;
  WriteTick(families, 1000, 5, true, kTwoDevices);
  const MetricFamily* family_storage = families.data();
  const Sample* sample_storage = families[2].samples.data();
  const Label* label_storage = families[2].samples[1].labels.data();
  const char* name_storage = families[2].samples[1].name.data();

  WriteTick(families, 2000, 7, true, kTwoDevices);
  ExpectSame(families, Built(2000, 7, true, kTwoDevices));
  // Nothing was reallocated: the same family, sample, label and name storage holds the values.
  EXPECT_EQ(families.data(), family_storage);
  EXPECT_EQ(families[2].samples.data(), sample_storage);
  EXPECT_EQ(families[2].samples[1].labels.data(), label_storage);
  EXPECT_EQ(families[2].samples[1].name.data(), name_storage);
}

TEST(FamilyWriter, FamiliesThatComeAndGo) {
  std::vector<MetricFamily> families;
  WriteTick(families, 1000, 5, true, kTwoDevices);
  WriteTick(families, 2000, 6, false, kTwoDevices);
  ExpectSame(families, Built(2000, 6, false, kTwoDevices));
  WriteTick(families, 3000, 7, true, kTwoDevices);
  ExpectSame(families, Built(3000, 7, true, kTwoDevices));
}

TEST(FamilyWriter, SeriesThatChange) {
  std::vector<MetricFamily> families;
  WriteTick(families, 1000, 5, false, kTwoDevices);
  const std::vector<Labels> three{{{"device", "sda"}}, {{"device", "sdb"}}, {{"device", "sdc"}}};
  WriteTick(families, 2000, 6, false, three);
  ExpectSame(families, Built(2000, 6, false, three));
  const std::vector<Labels> one{{{"device", "sdb"}}};
  WriteTick(families, 3000, 7, false, one);
  ExpectSame(families, Built(3000, 7, false, one));
}

TEST(FamilyWriter, FamilyWithoutSamplesIsLeftOut) {
  std::vector<MetricFamily> families;
  WriteTick(families, 1000, 5, true, kTwoDevices);
  WriteTick(families, 2000, 6, true, {});
  ExpectSame(families, Built(2000, 6, true, {}));
  ASSERT_EQ(families.size(), 2u);
  WriteTick(families, 3000, 7, true, kTwoDevices);
  ExpectSame(families, Built(3000, 7, true, kTwoDevices));
}

TEST(FamilyWriter, OtherFamiliesInTheSlotsAreReplaced) {
  std::vector<MetricFamily> families;
  {
    FamilyWriter out(families, 1);
    out.Family("a", "A.", MetricType::kGauge).Add(1, {{"k", "v"}}).Add(2);
    out.Family("b", "B.", MetricType::kCounter).Add(3);
  }
  {
    FamilyWriter out(families, 2);
    out.Family("c", "C.", MetricType::kCounter).Add(4).Add(5, {{"k", "w"}});
  }
  std::vector<MetricFamily> want;
  want.push_back(
      FamilyBuilder("c", "C.", MetricType::kCounter, 2).Add(4).Add(5, {{"k", "w"}}).Build());
  ExpectSame(families, want);
}

}  // namespace
}  // namespace metricsd
