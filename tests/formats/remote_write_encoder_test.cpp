#include "formats/remote_write_encoder.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <bit>
#include <cmath>
#include <limits>
#include <set>
#include <string_view>

#include "remote.pb.h"
#include "support/owned_batch.h"

namespace metricsd::formats {
namespace {

// Decodes our output with snappy and the protobuf library generated from the official
// field numbers.
prometheus::WriteRequest Decode(const std::string& body) {
  std::string raw;
  EXPECT_TRUE(snappy::Uncompress(body.data(), body.size(), &raw));
  prometheus::WriteRequest request;
  EXPECT_TRUE(request.ParseFromString(raw));
  return request;
}

std::vector<std::pair<std::string, std::string>> LabelsOf(const prometheus::TimeSeries& ts) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& l : ts.labels()) {
    out.emplace_back(l.name(), l.value());
  }
  return out;
}

using LabelList = std::vector<std::pair<std::string, std::string>>;

struct Encoded {
  prometheus::WriteRequest request;
  EncodeStats stats;
  std::string body;
};

Encoded EncodeFamilies(const std::vector<MetricFamily>& families) {
  const SampleViews views = ViewsOf(families);
  RemoteWriteEncoder encoder;
  Encoded e;
  encoder.Encode(AllSamples(views), e.body, e.stats);
  e.request = Decode(e.body);
  return e;
}

TEST(RemoteWriteEncoder, EncodesEverySampleWithItsOwnLabelsValueAndTimestamp) {
  MetricFamily cpu{"system_cpu_usage_percent", "help", MetricType::kGauge, {}};
  cpu.samples.push_back({"system_cpu_usage_percent", {{"core", "0"}}, 12.5, 1700000000123});
  cpu.samples.push_back({"system_cpu_usage_percent", {{"core", "1"}}, 0.0, 1700000000124});
  MetricFamily net{"system_network_bytes_recv_total", "", MetricType::kCounter, {}};
  net.samples.push_back({"system_network_bytes_recv_total",
                         {{"device", "eth0"}, {"host", "h1"}, {"zone", "z"}},
                         8589934592.0,
                         1700000060000});

  Encoded e = EncodeFamilies({cpu, net});
  ASSERT_EQ(e.request.timeseries_size(), 3);
  EXPECT_EQ(LabelsOf(e.request.timeseries(0)),
            (LabelList{{"__name__", "system_cpu_usage_percent"}, {"core", "0"}}));
  EXPECT_EQ(LabelsOf(e.request.timeseries(1)),
            (LabelList{{"__name__", "system_cpu_usage_percent"}, {"core", "1"}}));
  EXPECT_EQ(LabelsOf(e.request.timeseries(2)),
            (LabelList{{"__name__", "system_network_bytes_recv_total"},
                       {"device", "eth0"},
                       {"host", "h1"},
                       {"zone", "z"}}));
  ASSERT_EQ(e.request.timeseries(0).samples_size(), 1);
  EXPECT_EQ(e.request.timeseries(0).samples(0).value(), 12.5);
  EXPECT_EQ(e.request.timeseries(0).samples(0).timestamp(), 1700000000123);
  EXPECT_EQ(e.request.timeseries(1).samples(0).value(), 0.0);
  EXPECT_EQ(e.request.timeseries(1).samples(0).timestamp(), 1700000000124);
  EXPECT_EQ(e.request.timeseries(2).samples(0).value(), 8589934592.0);
  EXPECT_EQ(e.request.timeseries(2).samples(0).timestamp(), 1700000060000);
  EXPECT_EQ(e.stats.samples_written, 3u);
  EXPECT_EQ(e.stats.metric_names_sanitized + e.stats.label_names_sanitized +
                e.stats.empty_labels_dropped + e.stats.duplicate_labels_dropped,
            0u);
}

TEST(RemoteWriteEncoder, SortsNameLabelInByteOrder) {
  // Byte order: 'Z' (0x5a) < '_' (0x5f) < 'a' (0x61): "Zone" sorts before "__name__".
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  f.samples.push_back({"m", {{"Zone", "eu"}, {"a", "1"}}, 1, 5});
  Encoded e = EncodeFamilies({f});
  EXPECT_EQ(LabelsOf(e.request.timeseries(0)),
            (LabelList{{"Zone", "eu"}, {"__name__", "m"}, {"a", "1"}}));
}

TEST(RemoteWriteEncoder, RepairsLabelSetsAndCountsEveryChange) {
  MetricFamily f{"app_req.rate-1", "", MetricType::kGauge, {}};
  // Unsorted, a duplicate (the last wins), an empty value, invalid names, a stray __name__.
  f.samples.push_back({"app_req.rate-1",
                       {{"zeta", "1"},
                        {"bad-name", "x"},
                        {"empty", ""},
                        {"alpha", "first"},
                        {"__name__", "other"},
                        {"alpha", "second"},
                        {"9lives", "cat"}},
                       3.25,
                       42});
  Encoded e = EncodeFamilies({f});
  ASSERT_EQ(e.request.timeseries_size(), 1);
  EXPECT_EQ(LabelsOf(e.request.timeseries(0)), (LabelList{{"_9lives", "cat"},
                                                          {"__name__", "app_req_rate_1"},
                                                          {"alpha", "second"},
                                                          {"bad_name", "x"},
                                                          {"zeta", "1"}}));
  EXPECT_EQ(e.stats.metric_names_sanitized, 1u);
  EXPECT_EQ(e.stats.label_names_sanitized, 2u);
  EXPECT_EQ(e.stats.empty_labels_dropped, 1u);
  EXPECT_EQ(e.stats.duplicate_labels_dropped, 2u);  // __name__ and the first "alpha"
  EXPECT_EQ(e.request.timeseries(0).samples(0).value(), 3.25);
}

TEST(RemoteWriteEncoder, NeverAliasesTheStaleMarker) {
  const double stale = std::bit_cast<double>(kStaleNaNBits);
  const double other_nan = std::bit_cast<double>(0x7ff8000000000000ULL);
  const double payload_nan = std::bit_cast<double>(0x7ff0000000000003ULL);
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  f.samples.push_back({"m", {{"k", "stale"}}, stale, 1});
  f.samples.push_back({"m", {{"k", "nan"}}, other_nan, 1});
  f.samples.push_back({"m", {{"k", "payload"}}, payload_nan, 1});
  f.samples.push_back({"m", {{"k", "inf"}}, std::numeric_limits<double>::infinity(), 1});
  f.samples.push_back({"m", {{"k", "neginf"}}, -std::numeric_limits<double>::infinity(), 1});
  f.samples.push_back({"m", {{"k", "negzero"}}, -0.0, 1});
  Encoded e = EncodeFamilies({f});
  ASSERT_EQ(e.request.timeseries_size(), 6);
  auto bits = [&](int i) {
    return std::bit_cast<std::uint64_t>(e.request.timeseries(i).samples(0).value());
  };
  EXPECT_EQ(bits(0), kStaleNaNBits);
  EXPECT_EQ(bits(1), kNormalNaNBits);
  EXPECT_EQ(bits(2), kNormalNaNBits);
  EXPECT_EQ(bits(3), std::bit_cast<std::uint64_t>(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(bits(4), std::bit_cast<std::uint64_t>(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(bits(5), std::bit_cast<std::uint64_t>(-0.0));
  EXPECT_EQ(e.stats.nan_values_normalized, 2u);
}

TEST(RemoteWriteEncoder, UsesSnappyBlockFormatNotFramed) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  for (int i = 0; i < 100; ++i) {
    f.samples.push_back({"m", {{"i", std::to_string(i)}}, double(i), 1000 + i});
  }
  std::vector<MetricFamily> families{f};
  const SampleViews views = ViewsOf(families);
  RemoteWriteEncoder encoder;
  std::string body;
  EncodeStats stats;
  encoder.Encode(AllSamples(views), body, stats);
  ASSERT_GE(body.size(), 10u);
  EXPECT_NE(body.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
  // The block format starts with the varint of the uncompressed length.
  std::size_t uncompressed = 0;
  ASSERT_TRUE(snappy::GetUncompressedLength(body.data(), body.size(), &uncompressed));
  EXPECT_EQ(uncompressed, encoder.last_protobuf().size());
  std::uint64_t varint = 0;
  int shift = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    auto b = static_cast<unsigned char>(body[i]);
    varint |= std::uint64_t(b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) == 0) {
      break;
    }
  }
  EXPECT_EQ(varint, uncompressed);
}

TEST(RemoteWriteEncoder, ReusedEncoderProducesIdenticalOutputAndHandlesEdgeValues) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  std::string long_value(300, 'v');  // length prefix needs two varint bytes
  f.samples.push_back({"m", {{"long", long_value}, {"utf8", "grüße ☃"}}, -1.5e300, -5});
  f.samples.push_back({"m", {}, 1e-300, std::numeric_limits<std::int64_t>::max()});
  std::vector<MetricFamily> families{f};
  const SampleViews views = ViewsOf(families);
  RemoteWriteEncoder encoder;
  std::string first;
  std::string second;
  EncodeStats stats;
  encoder.Encode(AllSamples(views), first, stats);
  encoder.Encode(AllSamples(views), second, stats);
  EXPECT_EQ(first, second);
  prometheus::WriteRequest request = Decode(first);
  ASSERT_EQ(request.timeseries_size(), 2);
  EXPECT_EQ(LabelsOf(request.timeseries(0)),
            (LabelList{{"__name__", "m"}, {"long", long_value}, {"utf8", "grüße ☃"}}));
  EXPECT_EQ(request.timeseries(0).samples(0).value(), -1.5e300);
  EXPECT_EQ(request.timeseries(0).samples(0).timestamp(), -5);
  EXPECT_EQ(LabelsOf(request.timeseries(1)), (LabelList{{"__name__", "m"}}));
  EXPECT_EQ(request.timeseries(1).samples(0).timestamp(), std::numeric_limits<std::int64_t>::max());
}

TEST(RemoteWriteEncoder, AnEmptyNameIsSanitisedEvenAsANullView) {
  // Views decoded from a request can be empty and null; the checked-name memory starts null
  // too, and must not take one for the other (found by fuzz_write_request).
  SampleViews views;
  views.families.push_back({});
  views.samples.push_back({0, std::string_view(), 0, 0, 1.0, 5});
  RemoteWriteEncoder encoder;
  std::string body;
  EncodeStats stats;
  encoder.Append(std::string_view(), {}, 1.0, 5, stats);  // the streaming path
  encoder.Truncate(0);
  encoder.Encode(AllSamples(views), body, stats);
  const prometheus::WriteRequest request = Decode(body);
  ASSERT_EQ(request.timeseries_size(), 1);
  EXPECT_EQ(LabelsOf(request.timeseries(0)), (LabelList{{"__name__", "_"}}));
  EXPECT_EQ(stats.metric_names_sanitized, 2u);
}

TEST(RemoteWriteEncoder, EmptyBatchIsAnEmptyRequest) {
  RemoteWriteEncoder encoder;
  std::string body;
  EncodeStats stats;
  const SampleViews views;
  encoder.Encode(AllSamples(views), body, stats);
  EXPECT_EQ(Decode(body).timeseries_size(), 0);
  EXPECT_EQ(stats.samples_written, 0u);
}

}  // namespace
}  // namespace metricsd::formats

namespace metricsd::formats {
namespace {

// The queue's views point every repeat of a string at one place (the encoder then skips
// re-checking names); views of families point at each sample's own strings. Both must put
// the very same bytes on the wire, repairs and edge values included.
TEST(RemoteWriteEncoder, SharedAndPerSampleStringsProduceTheSameBytes) {
  MetricFamily messy{"app_req.rate-1", "", MetricType::kGauge, {}};
  messy.samples.push_back({"app_req.rate-1",
                           {{"zeta", "1"},
                            {"bad-name", "x"},
                            {"empty", ""},
                            {"alpha", "a"},
                            {"__name__", "other"},
                            {"alpha", "b"}},
                           3.25,
                           42});
  MetricFamily clean{"http_requests_total", "Requests.", MetricType::kCounter, {}};
  for (int i = 0; i < 50; ++i) {
    clean.samples.push_back({"http_requests_total",
                             {{"code", std::to_string(200 + i)}, {"method", "GET"}},
                             std::nan(""),
                             1'700'000'000'000 + i});
  }
  std::vector<MetricFamily> families{messy, clean};
  const SampleViews per_sample = ViewsOf(families);
  std::set<std::string, std::less<>> pool;  // nodes stay put: views into it stay valid
  auto intern = [&pool](std::string_view text) -> std::string_view {
    return *pool.emplace(text).first;
  };
  SampleViews views;
  for (const MetricFamily& f : families) {
    views.families.push_back({intern(f.name), intern(f.help), f.type});
    for (const Sample& s : f.samples) {
      SampleViews::Entry& e = views.samples.emplace_back();
      e.family = static_cast<std::uint32_t>(views.families.size() - 1);
      e.name = intern(s.name);
      e.first_label = views.labels.size();
      e.label_count = static_cast<std::uint32_t>(s.labels.size());
      for (const Label& l : s.labels) {
        views.labels.push_back({intern(l.name), intern(l.value)});
      }
      e.value = s.value;
      e.timestamp_ms = s.timestamp_ms;
    }
  }
  RemoteWriteEncoder encoder;
  std::string from_families;
  std::string from_views;
  EncodeStats families_stats;
  EncodeStats views_stats;
  encoder.Encode(AllSamples(per_sample), from_families, families_stats);
  encoder.Encode(AllSamples(views), from_views, views_stats);
  EXPECT_EQ(from_views, from_families);
  EXPECT_EQ(views_stats.samples_written, 51u);
  EXPECT_EQ(views_stats.duplicate_labels_dropped, families_stats.duplicate_labels_dropped);
  EXPECT_EQ(views_stats.nan_values_normalized, families_stats.nan_values_normalized);
  // A sub-range is exactly those samples.
  encoder.Encode(SampleRange{&views, 1, 3}, from_views, views_stats);
  EXPECT_EQ(Decode(from_views).timeseries_size(), 2);
  // And the views give the samples back.
  std::vector<MetricFamily> back = metricsd::testing::OwnedBatch(AllSamples(views));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].samples.size(), 50u);
  EXPECT_EQ(back[0].samples[0].labels, messy.samples[0].labels);
}

}  // namespace
}  // namespace metricsd::formats
