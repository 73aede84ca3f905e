#include "queue/ready_request_writer.h"

#include <gtest/gtest.h>

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

// What the sender would have encoded for samples [begin, end) of `batch`.
std::string EncodedBySender(const Batch& batch, std::size_t begin, std::size_t end) {
  const SampleViews views = ViewsOf(batch);
  formats::RemoteWriteEncoder encoder;
  formats::EncodeStats stats;
  std::string body;
  encoder.Encode(SampleRange{&views, begin, end}, body, stats);
  return std::string(1, kRemoteWriteRecord) + body;
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
    EXPECT_EQ(records[i].payload, EncodedBySender(batch, cuts[i][0], cuts[i][1])) << i;
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
    EXPECT_EQ(got[i].payload, want[i].payload) << i;
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
      EXPECT_EQ(got[i].payload, want[i].payload) << kept_count << " " << i;
      EXPECT_EQ(got[i].samples, want[i].samples);
      EXPECT_EQ(got[i].min_timestamp_ms, want[i].min_timestamp_ms);
    }
  }
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
