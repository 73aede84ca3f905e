#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "queue/batch_codec.h"
#include "queue/crc32c.h"
#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::MakeBatch;
using testing::Range;
using testing::Values;

constexpr std::uint64_t kStaleNaN = 0x7ff0000000000002ULL;

Batch RichBatch() {
  Batch batch;
  MetricFamily cpu;
  cpu.name = "node_cpu_seconds_total";
  cpu.help = "Seconds the CPUs spent in each mode.";
  cpu.type = MetricType::kCounter;
  for (int c = 0; c < 4; ++c) {
    for (const char* mode : {"idle", "user", "system"}) {
      cpu.samples.push_back(Sample{cpu.name,
                                   {{"cpu", std::to_string(c)}, {"mode", mode}},
                                   1234.5 + c,
                                   1'700'000'000'000 + c});
    }
  }
  batch.push_back(cpu);
  MetricFamily hist;
  hist.name = "req_seconds";
  hist.type = MetricType::kHistogram;
  hist.samples.push_back(Sample{"req_seconds_bucket", {{"le", "+Inf"}}, 3, -5});
  hist.samples.push_back(
      Sample{"req_seconds_sum", {}, -0.0, std::numeric_limits<std::int64_t>::max()});
  hist.samples.push_back(Sample{"req_seconds_count",
                                {},
                                std::bit_cast<double>(kStaleNaN),
                                std::numeric_limits<std::int64_t>::min()});
  hist.samples.push_back(Sample{"req_seconds_count",
                                {{"x", std::string("\0\xff", 2)}},
                                std::numeric_limits<double>::infinity(),
                                0});
  batch.push_back(hist);
  batch.push_back(MetricFamily{"empty_family", "", MetricType::kGaugeHistogram, {}});
  return batch;
}

void ExpectSameBatch(const Batch& a, const Batch& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t f = 0; f < a.size(); ++f) {
    EXPECT_EQ(a[f].name, b[f].name);
    EXPECT_EQ(a[f].help, b[f].help);
    EXPECT_EQ(a[f].type, b[f].type);
    ASSERT_EQ(a[f].samples.size(), b[f].samples.size());
    for (std::size_t s = 0; s < a[f].samples.size(); ++s) {
      const Sample& x = a[f].samples[s];
      const Sample& y = b[f].samples[s];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.labels, y.labels);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(x.value), std::bit_cast<std::uint64_t>(y.value));
      EXPECT_EQ(x.timestamp_ms, y.timestamp_ms);
    }
  }
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283U);
  EXPECT_EQ(Crc32c(""), 0U);
  const std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAU);  // RFC 3720 B.4
}

TEST(Crc32c, HardwareAndTableAgreeAndExtend) {
  std::mt19937 rng(7);
  std::string data(4099, '\0');
  for (char& c : data) {
    c = static_cast<char>(rng());
  }
  for (std::size_t len : {0UL, 1UL, 7UL, 8UL, 9UL, 63UL, 4099UL}) {
    const std::uint32_t whole = Crc32c(0, data.data(), len);
    EXPECT_EQ(whole, Crc32cPortable(0, data.data(), len)) << len;
    const std::size_t half = len / 2;
    EXPECT_EQ(whole, Crc32c(Crc32c(0, data.data(), half), data.data() + half, len - half)) << len;
  }
}

TEST(BatchCodec, RoundTripKeepsEverythingBitExact) {
  const Batch batch = RichBatch();
  std::string encoded;
  EncodeBatch(batch, encoded);
  auto decoded = DecodeBatch(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ExpectSameBatch(batch, *decoded);
}

TEST(BatchCodec, EmptyBatch) {
  std::string encoded;
  EncodeBatch({}, encoded);
  auto decoded = DecodeBatch(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(BatchCodec, RepeatedStringsAreStoredOnce) {
  const Batch batch = MakeBatch(0, 1000);
  std::string encoded;
  EncodeBatch(batch, encoded);
  // Per sample: name ref, label count, 4 label refs, 8-byte value, 1-byte delta ≈ 15 bytes.
  EXPECT_LT(encoded.size(), 1000U * 17);
  EXPECT_EQ(Values(*DecodeBatch(encoded)), Range(0, 1000));
}

// Feeds a batch to a BatchWriter one sample at a time, as the streaming scrape path does.
void WriteSamples(const Batch& batch, BatchWriter& writer) {
  std::vector<LabelView> labels;
  for (const MetricFamily& family : batch) {
    for (const Sample& sample : family.samples) {
      labels.clear();
      for (const Label& l : sample.labels) {
        labels.push_back(LabelView{l.name, l.value});
      }
      writer.Add(family.name, family.help, family.type, sample.name, labels, sample.value,
                 sample.timestamp_ms);
    }
  }
}

TEST(BatchWriter, DecodesToTheSameBatchAsEncodeBatch) {
  Batch batch = RichBatch();
  batch.pop_back();  // a writer cannot express a family without samples
  BatchWriter writer;
  WriteSamples(batch, writer);
  EXPECT_EQ(writer.samples(), CountSamples(batch));
  EXPECT_EQ(writer.min_timestamp_ms(), MinTimestamp(batch));
  const std::string encoded = writer.Finish();
  auto decoded = DecodeBatch(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ExpectSameBatch(batch, *decoded);

  // The writer starts over after Finish().
  EXPECT_EQ(writer.samples(), 0U);
  auto empty = DecodeBatch(writer.Finish());
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_TRUE(empty->empty());
}

TEST(BatchWriter, ManyStringsAndInterleavedFamilies) {
  // Enough distinct strings to grow the dictionary several times; family "a" comes back
  // after "b" and becomes a second entry.
  Batch batch;
  for (const char* name : {"a", "b", "a"}) {
    MetricFamily family{name, std::string("help of ") + name, MetricType::kGauge, {}};
    for (int i = 0; i < 3000; ++i) {
      family.samples.push_back(
          Sample{name, {{"id", std::to_string(i)}, {"zone", "z"}}, 1.0 * i, i});
    }
    batch.push_back(std::move(family));
  }
  BatchWriter writer;
  WriteSamples(batch, writer);
  auto decoded = DecodeBatch(writer.Finish());
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ExpectSameBatch(batch, *decoded);
  // The same encoding size class as EncodeBatch (dictionary references, not repeated bytes).
  std::string reference;
  EncodeBatch(batch, reference);
  BatchWriter again;
  WriteSamples(batch, again);
  EXPECT_LT(again.Finish().size(), reference.size() + 64);
}

// Samples of one family "fam" (so a mark can fall inside a family), then a family of its own.
Batch Part(const std::string& tag, int count) {
  Batch batch;
  MetricFamily fam{"fam", "help", MetricType::kGauge, {}};
  MetricFamily own{"own_" + tag, "help of " + tag, MetricType::kCounter, {}};
  for (int i = 0; i < count; ++i) {
    fam.samples.push_back(Sample{"fam", {{"part", tag}, {"id", std::to_string(i)}}, 1.0 * i, i});
    own.samples.push_back(Sample{"own_" + tag, {{"k", tag + std::to_string(i)}}, 2.0 * i, 5 - i});
  }
  batch.push_back(std::move(fam));
  batch.push_back(std::move(own));
  return batch;
}

TEST(BatchWriter, RollbackTakesBackExactlyWhatCameAfterTheMark) {
  const Batch before = Part("a", 10);
  const Batch dropped = Part("b", 3000);  // enough new strings to grow the dictionary
  // What comes after repeats the start of what was dropped: the same strings at the same
  // offsets, which a writer that still knew the dropped strings would encode as references.
  const Batch after = Part("b", 20);
  BatchWriter writer;
  WriteSamples(before, writer);
  // Inside family "own_a": the mark must restore an open family too.
  BatchWriter::Mark mark = writer.Checkpoint();
  WriteSamples(dropped, writer);
  writer.Rollback(mark);
  EXPECT_EQ(writer.samples(), CountSamples(before));
  WriteSamples(after, writer);
  EXPECT_EQ(writer.min_timestamp_ms(), std::min(MinTimestamp(before), MinTimestamp(after)));
  const std::string encoded = writer.Finish();

  // Byte for byte what a writer that never saw the dropped samples writes.
  BatchWriter reference;
  WriteSamples(before, reference);
  WriteSamples(after, reference);
  EXPECT_EQ(encoded, reference.Finish());
  auto decoded = DecodeBatch(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(CountSamples(*decoded), CountSamples(before) + CountSamples(after));

  // A rollback to a mark with nothing after it changes nothing.
  WriteSamples(before, writer);
  mark = writer.Checkpoint();
  writer.Rollback(mark);
  WriteSamples(after, writer);
  EXPECT_EQ(writer.Finish(), encoded);
}

TEST(BatchCodec, ViewsDecodeTheSameSamplesWithoutCopying) {
  const Batch batch = RichBatch();
  std::string encoded;
  EncodeBatch(batch, encoded);
  SampleViews views;
  ASSERT_TRUE(DecodeBatchViews(encoded, views).ok());
  ASSERT_EQ(views.samples.size(), CountSamples(batch));
  Batch empty_dropped = batch;
  empty_dropped.pop_back();  // views carry samples; a family without any leaves no trace
  ExpectSameBatch(empty_dropped, metricsd::testing::OwnedBatch(AllSamples(views)));
  for (const SampleViews::Entry& e : views.samples) {
    EXPECT_GE(e.name.data(), encoded.data());
    EXPECT_LT(e.name.data(), encoded.data() + encoded.size());
  }
  // Appends; a bad record leaves what was there.
  ASSERT_TRUE(DecodeBatchViews(encoded, views).ok());
  EXPECT_EQ(views.samples.size(), 2 * CountSamples(batch));
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    SampleViews partial = views;
    EXPECT_FALSE(DecodeBatchViews(std::string_view(encoded).substr(0, cut), partial).ok());
    EXPECT_EQ(partial.samples.size(), views.samples.size());
    EXPECT_EQ(partial.labels.size(), views.labels.size());
    EXPECT_EQ(partial.families.size(), views.families.size());
  }
}

TEST(BatchViewReader, PiecesOfAnySizeAddUpToTheBatch) {
  Batch batch = RichBatch();
  for (const Batch& more : {MakeBatch(0, 700), MakeBatch(700, 5)}) {
    batch.insert(batch.end(), more.begin(), more.end());
  }
  std::string encoded;
  EncodeBatch(batch, encoded);
  Batch expected = *DecodeBatch(encoded);
  std::erase_if(expected, [](const MetricFamily& f) { return f.samples.empty(); });
  for (std::size_t piece : {1, 2, 3, 7, 100, 1000, 100000}) {
    BatchViewReader reader(encoded);
    Batch pieces;
    for (int guard = 0; guard < 100000; ++guard) {
      SampleViews views;  // a fresh one per piece, as the sender does
      auto more = reader.Next(piece, views);
      ASSERT_TRUE(more.ok()) << more.error();
      EXPECT_LE(views.samples.size(), piece);
      // One family per sample, so that pieces compare without regard to where they were cut.
      for (std::size_t i = 0; i < views.samples.size(); ++i) {
        Batch one = metricsd::testing::OwnedBatch(SampleRange{&views, i, i + 1});
        pieces.insert(pieces.end(), one.begin(), one.end());
      }
      if (!*more) {
        break;
      }
    }
    EXPECT_EQ(reader.samples_read(), CountSamples(expected));
    Batch singles;
    for (const MetricFamily& f : expected) {
      for (const Sample& sample : f.samples) {
        singles.push_back(MetricFamily{f.name, f.help, f.type, {sample}});
      }
    }
    ExpectSameBatch(singles, pieces);
  }
}

TEST(BatchViewReader, CorruptionStopsTheReaderAndKeepsWhatWasThere) {
  std::string encoded;
  EncodeBatch(MakeBatch(0, 50), encoded);
  encoded.resize(encoded.size() - 3);  // the last sample is cut short
  BatchViewReader reader(encoded);
  SampleViews views;
  std::size_t good = 0;
  while (true) {
    const std::size_t before = views.samples.size();
    auto more = reader.Next(4, views);
    if (!more.ok()) {
      EXPECT_EQ(views.samples.size(), before);
      break;
    }
    ASSERT_TRUE(*more) << "a truncated batch must not end cleanly";
    good = views.samples.size();
  }
  EXPECT_GT(good, 0U);
  EXPECT_LT(good, 50U);
  auto after = reader.Next(4, views);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(*after);
}

TEST(BatchCodec, DecodeIntoAppendsAndKeepsOldFamiliesOnError) {
  std::string a;
  std::string b;
  EncodeBatch(MakeBatch(0, 3), a);
  EncodeBatch(MakeBatch(3, 2), b);
  Batch merged;
  ASSERT_TRUE(DecodeBatchInto(a, merged).ok());
  ASSERT_TRUE(DecodeBatchInto(b, merged).ok());
  EXPECT_EQ(Values(merged), Range(0, 5));
  EXPECT_FALSE(DecodeBatchInto(b.substr(0, b.size() - 1), merged).ok());
  EXPECT_EQ(Values(merged), Range(0, 5));
}

TEST(BatchCodec, EveryTruncationIsAnError) {
  std::string encoded;
  EncodeBatch(RichBatch(), encoded);
  for (std::size_t len = 0; len < encoded.size(); ++len) {
    EXPECT_FALSE(DecodeBatch(std::string_view(encoded).substr(0, len)).ok()) << len;
  }
  EXPECT_FALSE(DecodeBatch(encoded + "x").ok());
}

TEST(BatchCodec, BitFlipsAndGarbageNeverCrash) {
  std::string encoded;
  EncodeBatch(RichBatch(), encoded);
  int errors = 0;
  for (std::size_t bit = 0; bit < encoded.size() * 8; ++bit) {
    std::string flipped = encoded;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    errors += DecodeBatch(flipped).ok() ? 0 : 1;
  }
  EXPECT_GT(errors, 0);
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(rng() % 200, '\0');
    for (char& c : garbage) {
      c = static_cast<char>(rng());
    }
    if (!garbage.empty()) {
      garbage[0] = 1;  // get past the version byte
    }
    (void)DecodeBatch(garbage);
  }
}

TEST(BatchCodec, AbsurdCountsAreRejectedBeforeAllocating) {
  // version 1, family count 2^62.
  const std::string huge_families("\x01\xff\xff\xff\xff\xff\xff\xff\xff\x3f", 10);
  EXPECT_FALSE(DecodeBatch(huge_families).ok());
  // One family "a" with 2^40 samples.
  const std::string huge_samples(
      "\x01\x01\x02"
      "a"
      "\x00\x00\x80\x80\x80\x80\x80\x20",
      12);
  EXPECT_FALSE(DecodeBatch(huge_samples).ok());
  // Dictionary reference to a string that was never seen.
  EXPECT_FALSE(DecodeBatch(std::string("\x01\x01\x09", 3)).ok());
  // Overlong varint (11 bytes).
  EXPECT_FALSE(
      DecodeBatch(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)).ok());
  // Bad metric type.
  EXPECT_FALSE(DecodeBatch(std::string("\x01\x01\x02"
                                       "a"
                                       "\x00\x09\x00",
                                       7))
                   .ok());
  EXPECT_FALSE(DecodeBatch(std::string("\x02\x00", 2)).ok());  // unknown version
}

TEST(BatchCodec, CountAndMinTimestamp) {
  const Batch batch = RichBatch();
  EXPECT_EQ(CountSamples(batch), 16U);
  EXPECT_EQ(MinTimestamp(batch), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(MinTimestamp({}), 0);
}

}  // namespace
}  // namespace metricsd::queue
