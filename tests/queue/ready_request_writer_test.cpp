#include "queue/ready_request_writer.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <string>
#include <vector>

#include "formats/remote_write_encoder.h"
#include "queue/record_format.h"
#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::AddAll;
using testing::MakeBatch;

std::vector<EncodedBatch> FinishAll(ReadyRequestWriter& writer) { return writer.Finish(); }

// The protobuf WriteRequest a record carries ("" when it is not a snappy block).
std::string RequestOf(const EncodedBatch& record) {
  std::string proto;
  if (record.payload.empty() || record.payload[0] != kRemoteWriteRecord ||
      !snappy::Uncompress(record.payload.data() + 1, record.payload.size() - 1, &proto)) {
    return "";
  }
  return proto;
}

// What the sender would have encoded for samples [begin, end) of `batch`, uncompressed.
std::string EncodedBySender(const Batch& batch, std::size_t begin, std::size_t end) {
  const SampleViews views = ViewsOf(batch);
  formats::RemoteWriteEncoder encoder;
  formats::EncodeStats stats;
  std::string body;
  encoder.Encode(SampleRange{&views, begin, end}, body, stats);
  return std::string(encoder.last_protobuf());
}

TEST(ReadyRequestWriter, RecordsAreTheSenderEncodingCutAtTheRequestLimit) {
  const Batch batch = MakeBatch(0, 7);
  ReadyRequestWriter writer(3);
  AddAll(writer, batch);
  EXPECT_EQ(writer.samples(), 7u);
  const std::vector<EncodedBatch> records = FinishAll(writer);
  ASSERT_EQ(records.size(), 3u);
  const std::size_t cuts[][2] = {{0, 3}, {3, 6}, {6, 7}};
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(RequestOf(records[i]), EncodedBySender(batch, cuts[i][0], cuts[i][1])) << i;
    EXPECT_EQ(records[i].samples, cuts[i][1] - cuts[i][0]);
    EXPECT_EQ(records[i].min_timestamp_ms, batch[0].samples[cuts[i][0]].timestamp_ms);
  }
  EXPECT_EQ(writer.samples(), 0u);
  EXPECT_TRUE(FinishAll(writer).empty());  // empty after Finish
}

TEST(ReadyRequestWriter, RollbackTakesBackExactlyWhatCameAfterTheMark) {
  const Batch kept = MakeBatch(0, 4);
  const Batch taken_back = MakeBatch(100, 5);  // crosses two request boundaries
  ReadyRequestWriter writer(3);
  AddAll(writer, kept);
  const ReadyRequestWriter::Mark mark = writer.Checkpoint();
  AddAll(writer, taken_back);
  writer.Rollback(mark);
  const Batch after = MakeBatch(200, 1);
  AddAll(writer, after);

  ReadyRequestWriter clean(3);
  AddAll(clean, kept);
  AddAll(clean, after);
  const std::vector<EncodedBatch> got = FinishAll(writer);
  const std::vector<EncodedBatch> want = FinishAll(clean);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(RequestOf(got[i]), RequestOf(want[i])) << i;
    EXPECT_EQ(got[i].samples, want[i].samples) << i;
    EXPECT_EQ(got[i].min_timestamp_ms, want[i].min_timestamp_ms) << i;
  }
}

TEST(ReadyRequestWriter, ARollbackReopensTheRequestItsMarkWasInAfterItWasClosed) {
  // Marks taken at every place of a request of 3, then 7 more samples (closing two requests)
  // taken back: the records equal a writer that never saw them, and later marks still work.
  for (int kept_count = 0; kept_count <= 7; ++kept_count) {
    const Batch kept = MakeBatch(0, kept_count);
    ReadyRequestWriter writer(3);
    AddAll(writer, kept);
    ReadyRequestWriter::Mark mark = writer.Checkpoint();
    AddAll(writer, MakeBatch(100, 7));
    writer.Rollback(mark);
    mark = writer.Checkpoint();  // a second scrape, also taken back
    AddAll(writer, MakeBatch(200, 4));
    writer.Rollback(mark);
    AddAll(writer, MakeBatch(300, 2));
    ReadyRequestWriter clean(3);
    AddAll(clean, kept);
    AddAll(clean, MakeBatch(300, 2));
    const std::vector<EncodedBatch> got = FinishAll(writer);
    const std::vector<EncodedBatch> want = FinishAll(clean);
    ASSERT_EQ(got.size(), want.size()) << kept_count;
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(RequestOf(got[i]), RequestOf(want[i])) << kept_count << " " << i;
      EXPECT_FALSE(RequestOf(got[i]).empty());
      EXPECT_EQ(got[i].samples, want[i].samples);
      EXPECT_EQ(got[i].min_timestamp_ms, want[i].min_timestamp_ms);
    }
  }
}

// Requests hold whole runs (one target's samples, from one Checkpoint to the next) as long as
// a run fits in one: where a request fills up the run goes whole into the next, so a run's
// place in the requests, and with it its compression, does not depend on what came before.
TEST(ReadyRequestWriter, ARunThatDoesNotFitGoesWholeIntoTheNextRequest) {
  const Batch batch = MakeBatch(0, 40);  // timestamps rise with the sample
  ReadyRequestWriter writer(10);
  std::vector<LabelView> labels;
  std::size_t at = 0;
  for (std::size_t run : {4, 4, 4, 25, 3}) {
    writer.Checkpoint();
    for (std::size_t end = at + run; at < end; ++at) {
      const Sample& s = batch[0].samples[at];
      ViewLabels(s.labels, labels);
      writer.Add(batch[0].name, "", MetricType::kGauge, s.name, labels, s.value, s.timestamp_ms);
    }
  }
  const std::vector<EncodedBatch> records = FinishAll(writer);
  // 4+4 | 4 | 25 cut every 10 from its start: 10 | 10 | its last 5, then 3.
  const std::size_t sizes[] = {8, 4, 10, 10, 8};
  ASSERT_EQ(records.size(), std::size(sizes));
  std::size_t from = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].samples, sizes[i]) << i;
    EXPECT_EQ(RequestOf(records[i]), EncodedBySender(batch, from, from + sizes[i])) << i;
    EXPECT_EQ(records[i].min_timestamp_ms, batch[0].samples[from].timestamp_ms) << i;
    from += sizes[i];
  }
}

// A rollback to the mark of a run that was carried into the next request reopens the
// request that ended at the mark.
TEST(ReadyRequestWriter, ARollbackTakesBackACarriedRun) {
  const Batch first = MakeBatch(0, 8);
  ReadyRequestWriter writer(10);
  writer.Checkpoint();
  AddAll(writer, first);
  const ReadyRequestWriter::Mark mark = writer.Checkpoint();
  AddAll(writer, MakeBatch(100, 5));  // carried at its third sample, then two more
  writer.Rollback(mark);
  const std::vector<EncodedBatch> records = FinishAll(writer);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].samples, 8u);
  EXPECT_EQ(RequestOf(records[0]), EncodedBySender(first, 0, 8));
}

// Values and timestamps move between cycles: requests are rebuilt from the last cycle's
// skeletons and still carry exactly the new samples. A renamed series is compressed anew.
TEST(ReadyRequestWriter, UnchangedSeriesReuseTheLastCyclesCompressionAndCarryTheNewValues) {
  ReadyRequestWriter writer(40);
  const auto cycle = [&](int shift, std::int64_t timestamp_ms, std::size_t targets) {
    Batch batch = MakeBatch(0, 100);
    for (Sample& sample : batch[0].samples) {
      sample.value += shift * 3;  // counters: whole numbers
      sample.timestamp_ms = timestamp_ms;
    }
    // Checkpoints as the scrape path takes them, one per target of 25 series.
    for (std::size_t t = 0; t < targets; ++t) {
      writer.Checkpoint();
      for (std::size_t i = 25 * t; i < 25 * (t + 1); ++i) {
        const Sample& s = batch[0].samples[i];
        std::vector<LabelView> labels;
        ViewLabels(s.labels, labels);
        writer.Add(batch[0].name, "", MetricType::kGauge, batch[0].name, labels, s.value,
                   s.timestamp_ms);
      }
    }
    const std::vector<EncodedBatch> records = writer.Finish();
    std::size_t at = 0;
    for (const EncodedBatch& record : records) {
      EXPECT_EQ(RequestOf(record), EncodedBySender(batch, at, at + record.samples));
      at += record.samples;
    }
    EXPECT_EQ(at, 25 * targets);
  };
  // 4 runs of 25 in requests of at most 40: a run that does not fit goes whole into the
  // next request, so each request holds one run.
  cycle(0, 1000, 4);
  EXPECT_EQ(writer.skeletons().built(), 0u);
  cycle(1, 2000, 4);
  EXPECT_EQ(writer.skeletons().built(), 4u);
  EXPECT_EQ(writer.skeletons().reused(), 0u);
  cycle(2, 3000, 4);
  EXPECT_EQ(writer.skeletons().built(), 4u);
  EXPECT_EQ(writer.skeletons().reused(), 4u);  // every run
  // A timestamp of another length changes the bytes around it: new keys, seen once.
  cycle(3, 1'700'000'000'000, 4);
  cycle(4, 1'700'000'001'000, 4);
  EXPECT_EQ(writer.skeletons().built(), 8u);
  const std::size_t all = writer.skeletons().skeleton_bytes();
  cycle(5, 1'700'000'002'000, 2);  // half the targets: the rest is forgotten after the cycle
  EXPECT_EQ(writer.skeletons().reused(), 6u);
  EXPECT_LT(writer.skeletons().skeleton_bytes(), all);
  EXPECT_GT(writer.skeletons().skeleton_bytes(), 0u);
}

TEST(ReadyRequestWriter, NoLimitMakesOneRequest) {
  ReadyRequestWriter writer(0);
  AddAll(writer, MakeBatch(0, 5000));
  const std::vector<EncodedBatch> records = FinishAll(writer);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].samples, 5000u);
}

}  // namespace
}  // namespace metricsd::queue
