#include "formats/remote_write_decoder.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <bit>
#include <string>
#include <vector>

#include "formats/remote_write_encoder.h"
#include "remote.pb.h"

namespace metricsd::formats {
namespace {

std::string Describe(const SampleViews& views) {
  std::string out;
  for (const SampleViews::Entry& e : views.samples) {
    out += std::string(views.families[e.family].name) + "|" + std::string(e.name) + "{";
    for (const LabelView& l : views.LabelsOf(e)) {
      out += std::string(l.name) + "=" + std::string(l.value) + ",";
    }
    out += "} " + std::to_string(std::bit_cast<std::uint64_t>(e.value)) + " @" +
           std::to_string(e.timestamp_ms) + "\n";
  }
  return out;
}

TEST(RemoteWriteDecoder, ReadsBackWhatTheEncoderWroteBitForBit) {
  MetricFamily cpu{"cpu_seconds_total", "", MetricType::kCounter, {}};
  cpu.samples.push_back({"cpu_seconds_total", {{"cpu", "0"}, {"mode", "idle"}}, 12.5, 1000});
  cpu.samples.push_back({"cpu_seconds_total", {{"cpu", "1"}, {"mode", "idle"}}, -0.0, -5});
  MetricFamily up{"up", "", MetricType::kGauge, {}};
  up.samples.push_back({"up", {}, std::bit_cast<double>(kStaleNaNBits), 2000});
  up.samples.push_back({"up", {{"zone", "z"}}, 1e300, 3000});
  const std::vector<MetricFamily> families{cpu, up};
  const SampleViews in = ViewsOf(families);
  RemoteWriteEncoder encoder;
  std::string body;
  EncodeStats stats;
  encoder.Encode(AllSamples(in), body, stats);

  SampleViews out;
  std::string proto;
  ASSERT_TRUE(DecodeCompressedWriteRequest(body, proto, out));
  EXPECT_EQ(Describe(out), Describe(in));
  ASSERT_EQ(out.families.size(), 2u);  // one per run of a name, untyped
  EXPECT_EQ(out.families[0].type, MetricType::kUntyped);
}

TEST(RemoteWriteDecoder, SkipsFieldsItDoesNotUseAndKeepsEverySampleOfASeries) {
  prometheus::WriteRequest request;
  prometheus::TimeSeries* series = request.add_timeseries();
  auto* name = series->add_labels();
  name->set_name("__name__");
  name->set_value("m");
  auto* job = series->add_labels();
  job->set_name("job");
  job->set_value("j");
  for (int i = 0; i < 3; ++i) {
    auto* sample = series->add_samples();
    sample->set_value(i);
    sample->set_timestamp(100 + i);
  }
  std::string proto;
  ASSERT_TRUE(request.SerializeToString(&proto));
  // Fields the decoder skips: an unknown varint and an unknown length-delimited field (where
  // newer protocol versions put metadata and the like).
  proto += std::string("\x18\x05", 2);     // field 3, varint 5
  proto += std::string("\x22\x03xyz", 5);  // field 4, 3 bytes
  SampleViews out;
  ASSERT_TRUE(DecodeWriteRequest(proto, out));
  EXPECT_EQ(Describe(out),
            "m|m{job=j,} 0 @100\nm|m{job=j,} 4607182418800017408 @101\n"
            "m|m{job=j,} 4611686018427387904 @102\n");
}

TEST(RemoteWriteDecoder, AnyDamageIsAnErrorThatLeavesTheOutputAsItWas) {
  MetricFamily f{"m", "", MetricType::kGauge, {}};
  for (int i = 0; i < 20; ++i) {
    f.samples.push_back({"m", {{"i", std::to_string(i)}}, double(i), i});
  }
  const std::vector<MetricFamily> families{f};
  const SampleViews in = ViewsOf(families);
  RemoteWriteEncoder encoder;
  std::string body;
  EncodeStats stats;
  encoder.Encode(AllSamples(in), body, stats);
  const std::string proto(encoder.last_protobuf());

  SampleViews before;
  ASSERT_TRUE(DecodeWriteRequest(proto, before));  // something to keep
  const std::string kept = Describe(before);
  std::size_t errors = 0;
  for (std::size_t cut = 0; cut < proto.size(); ++cut) {
    SampleViews out = before;
    if (!DecodeWriteRequest(std::string_view(proto).substr(0, cut), out)) {
      ++errors;
      EXPECT_EQ(Describe(out), kept) << "cut at " << cut;
    } else {
      EXPECT_LE(out.samples.size(), before.samples.size() * 2);
    }
  }
  EXPECT_GT(errors, proto.size() / 2);  // only cuts between series decode
  // Flipped bytes: an error or some decoding, never a crash (the sanitizers watch).
  for (std::size_t at = 0; at < proto.size(); ++at) {
    std::string damaged = proto;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x80);
    SampleViews out;
    (void)DecodeWriteRequest(damaged, out);
  }
  SampleViews out;
  std::string scratch;
  EXPECT_FALSE(DecodeCompressedWriteRequest("not snappy at all", scratch, out));
  // A series without a name cannot be a sample.
  EXPECT_FALSE(DecodeWriteRequest(std::string("\x0a\x00", 2), out));
  EXPECT_TRUE(out.samples.empty());
}

}  // namespace
}  // namespace metricsd::formats
