#include "formats/http_json_encoder.h"

#include <gtest/gtest.h>

#include <limits>

namespace metricsd::formats {
namespace {

std::string Number(double v) {
  std::string out;
  AppendJsonNumber(out, v);
  return out;
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(HttpJsonEncoder, FormatsNumbersLikeGoEncodingJson) {
  EXPECT_EQ(Number(45.2), "45.2");
  EXPECT_EQ(Number(8589934592.0), "8589934592");
  EXPECT_EQ(Number(0), "0");
  EXPECT_EQ(Number(-0.0), "-0");
  EXPECT_EQ(Number(0.1), "0.1");
  EXPECT_EQ(Number(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(Number(1e-6), "0.000001");
  EXPECT_EQ(Number(1e-7), "1e-7");
  EXPECT_EQ(Number(1.5e-10), "1.5e-10");
  EXPECT_EQ(Number(1e20), "100000000000000000000");
  EXPECT_EQ(Number(1e21), "1e+21");
  EXPECT_EQ(Number(-2.5e300), "-2.5e+300");
  EXPECT_EQ(Number(123456789.123), "123456789.123");
}

TEST(HttpJsonEncoder, EscapesStringsLikeGoEncodingJson) {
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Quoted(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(Quoted("<a>&"), "\"\\u003ca\\u003e\\u0026\"");
  EXPECT_EQ(Quoted("grüße ☃"), "\"grüße ☃\"");
  EXPECT_EQ(Quoted("\xe2\x80\xa8|\xe2\x80\xa9"), "\"\\u2028|\\u2029\"");
  EXPECT_EQ(Quoted("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
  EXPECT_EQ(Quoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a UTF-16 surrogate
}

TEST(HttpJsonEncoder, WritesTheOriginalPayloadShapeAndSkipsNonFinite) {
  MetricFamily mem{"system_memory_total_bytes", "", MetricType::kGauge, {}};
  mem.samples.push_back({"system_memory_total_bytes", {}, 8589934592.0, 1700000000500});
  MetricFamily net{"system_network_bytes_sent_total", "", MetricType::kCounter, {}};
  net.samples.push_back({"system_network_bytes_sent_total", {{"interface", "eth0"}}, 12, 1});
  net.samples.push_back({"system_network_bytes_sent_total",
                         {{"interface", "lo"}},
                         std::numeric_limits<double>::quiet_NaN(),
                         1});
  net.samples.push_back({"system_network_bytes_sent_total",
                         {{"z", "1"}, {"a", "2"}},  // unsorted: keys come out sorted
                         std::numeric_limits<double>::infinity(),
                         1});
  MetricFamily up{"app_up", "", MetricType::kUntyped, {}};
  up.samples.push_back({"app_up", {{"z", "1"}, {"a", "x<y"}}, 1, 1});
  std::vector<MetricFamily> families{mem, net, up};
  const SampleViews views = ViewsOf(families);
  std::string out;
  EncodeStats stats;
  EncodeHttpJson(AllSamples(views), 1700000000, out, stats);
  EXPECT_EQ(
      out,
      R"({"timestamp":1700000000,"metrics":[)"
      R"({"name":"system_memory_total_bytes","value":8589934592,"type":"gauge","labels":{}},)"
      R"({"name":"system_network_bytes_sent_total","value":12,"type":"counter","labels":{"interface":"eth0"}},)"
      R"({"name":"app_up","value":1,"type":"untyped","labels":{"a":"x\u003cy","z":"1"}}]})");
  EXPECT_EQ(stats.samples_written, 3u);
  EXPECT_EQ(stats.samples_skipped_non_finite, 2u);
}

TEST(HttpJsonEncoder, AllSkippedStillGivesValidJson) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  f.samples.push_back({"m", {}, std::numeric_limits<double>::quiet_NaN(), 1});
  std::vector<MetricFamily> families{f};
  const SampleViews views = ViewsOf(families);
  std::string out;
  EncodeStats stats;
  EncodeHttpJson(AllSamples(views), 7, out, stats);
  EXPECT_EQ(out, R"({"timestamp":7,"metrics":[]})");
}

}  // namespace
}  // namespace metricsd::formats
