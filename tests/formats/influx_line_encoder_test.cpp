#include "formats/influx_line_encoder.h"

#include <gtest/gtest.h>

#include <limits>

namespace metricsd::formats {
namespace {

std::string Encode(const std::vector<MetricFamily>& families, InfluxPrecision precision,
                   EncodeStats* stats_out = nullptr) {
  const SampleViews views = ViewsOf(families);
  std::string out;
  EncodeStats stats;
  EncodeInfluxLines(AllSamples(views), precision, out, stats);
  if (stats_out != nullptr) {
    *stats_out = stats;
  }
  return out;
}

TEST(InfluxLineEncoder, WritesMeasurementTagsFieldAndNanosecondTimestamp) {
  MetricFamily f{"system_cpu_usage_percent", "", MetricType::kGauge, {}};
  f.samples.push_back(
      {"system_cpu_usage_percent", {{"core", "0"}, {"host", "a"}}, 12.5, 1700000000123});
  f.samples.push_back({"system_cpu_usage_percent", {}, 8589934592.0, 1700000000124});
  EXPECT_EQ(Encode({f}, InfluxPrecision::kNanoseconds),
            "system_cpu_usage_percent,core=0,host=a value=12.5 1700000000123000000\n"
            "system_cpu_usage_percent value=8589934592 1700000000124000000\n");
  EXPECT_EQ(Encode({f}, InfluxPrecision::kMilliseconds),
            "system_cpu_usage_percent,core=0,host=a value=12.5 1700000000123\n"
            "system_cpu_usage_percent value=8589934592 1700000000124\n");
  EXPECT_EQ(Encode({f}, InfluxPrecision::kSeconds),
            "system_cpu_usage_percent,core=0,host=a value=12.5 1700000000\n"
            "system_cpu_usage_percent value=8589934592 1700000000\n");
}

TEST(InfluxLineEncoder, EscapesMeasurementTagKeysAndValues) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  f.samples.push_back(
      {"cpu load,total=x", {{"a b", "c,d"}, {"k=v", "x=y z"}, {"path", "C:\\dir\\"}}, 1, 1});
  EXPECT_EQ(Encode({f}, InfluxPrecision::kMilliseconds),
            "cpu\\ load\\,total=x,a\\ b=c\\,d,k\\=v=x\\=y\\ z,path=C:\\dir\\\\ value=1 1\n");
}

TEST(InfluxLineEncoder, DropsEmptyTagsTurnsLineBreaksIntoSpacesAndSkipsNonFinite) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  f.samples.push_back({"m", {{"empty", ""}, {"multi", "a\nb"}}, -0.25, 2});
  f.samples.push_back({"m", {}, std::numeric_limits<double>::quiet_NaN(), 3});
  f.samples.push_back({"m", {}, -std::numeric_limits<double>::infinity(), 4});
  EncodeStats stats;
  EXPECT_EQ(Encode({f}, InfluxPrecision::kMilliseconds, &stats), "m,multi=a\\ b value=-0.25 2\n");
  EXPECT_EQ(stats.samples_written, 1u);
  EXPECT_EQ(stats.samples_skipped_non_finite, 2u);
  EXPECT_EQ(stats.empty_labels_dropped, 1u);
}

TEST(InfluxLineEncoder, PrecisionFromUrl) {
  EXPECT_EQ(InfluxPrecisionFromUrl("http://h/write"), InfluxPrecision::kNanoseconds);
  EXPECT_EQ(InfluxPrecisionFromUrl("http://h/write?db=x&precision=ms"),
            InfluxPrecision::kMilliseconds);
  EXPECT_EQ(InfluxPrecisionFromUrl("http://h/write?precision=s&db=x"), InfluxPrecision::kSeconds);
  EXPECT_EQ(InfluxPrecisionFromUrl("http://h/write?precision=u"), InfluxPrecision::kMicroseconds);
  EXPECT_EQ(InfluxPrecisionFromUrl("http://h/write?precision=ns"), InfluxPrecision::kNanoseconds);
}

}  // namespace
}  // namespace metricsd::formats
