#include "queue/request_assembler.h"

#include <gtest/gtest.h>

#include <vector>

#include "formats/remote_write_decoder.h"
#include "queue/shipper_queue.h"
#include "test_util.h"

namespace metricsd::queue {
namespace {

using testing::FakeClock;
using testing::MakeBatch;

constexpr std::size_t kNoByteLimit = 1 << 30;

// A memory-only spool holding batches of the given sizes, values numbered from 0 on.
class AssemblerTest : public ::testing::Test {
 protected:
  void Add(int samples) {
    EncodedBatch encoded = EncodeForQueue(MakeBatch(next_value_, samples));
    spool_.Append(std::move(encoded.payload), encoded.samples, encoded.min_timestamp_ms);
    next_value_ += samples;
  }
  // A finished remote write record (what a remote write shipper's queue holds).
  std::string AddReady(int samples) {
    EncodedBatch record = std::move(testing::ReadyRecords(MakeBatch(next_value_, samples)).at(0));
    std::string payload = record.payload;
    spool_.Append(std::move(record.payload), record.samples, record.min_timestamp_ms);
    next_value_ += samples;
    return payload;
  }
  // The values of a request, decoding a finished body.
  std::vector<int> ValuesOf(const RequestAssembler::Request& request) const {
    SampleViews decoded;
    std::string proto;
    const SampleRange range = [&] {
      if (request.body.empty()) {
        return request.samples;
      }
      EXPECT_TRUE(formats::DecodeCompressedWriteRequest(request.body, proto, decoded));
      return AllSamples(decoded);
    }();
    std::vector<int> values;
    for (std::size_t i = range.begin; i < range.end; ++i) {
      values.push_back(static_cast<int>(range.views->samples[i].value));
    }
    EXPECT_EQ(values.size(), request.sample_count);
    return values;
  }
  RequestAssembler::CorruptFn OnCorrupt() {
    return [this](std::uint64_t, const std::string&, std::uint64_t samples) {
      corrupt_samples_ += samples;
    };
  }
  std::optional<RequestAssembler::Request> Current(std::size_t max_samples,
                                                   bool sends_ready = false) {
    return requests_.Current(spool_, {max_samples, kNoByteLimit, sends_ready}, OnCorrupt());
  }
  bool Split() { return requests_.Split(OnCorrupt()); }
  // Every value sent from here on, finishing each request.
  std::vector<int> Drain(std::size_t max_samples, bool sends_ready) {
    std::vector<int> values;
    while (auto next = Current(max_samples, sends_ready)) {
      for (int v : ValuesOf(*next)) {
        values.push_back(v);
      }
      requests_.Finished();
    }
    return values;
  }

  FakeClock clock_;
  Spool spool_{SpoolOptions{.name = "test", .max_memory_samples = 10'000}, clock_};
  RequestAssembler requests_;
  int next_value_ = 0;
  std::uint64_t corrupt_samples_ = 0;
};

TEST_F(AssemblerTest, JoinsRecordsThatFitAndCutsLargeOnesAtTheLimit) {
  Add(2);
  Add(2);  // read together with the first: 4 <= 5
  Add(3);  // 7 > 5: the next read
  Add(7);
  auto first = Current(5);
  ASSERT_TRUE(first);
  EXPECT_EQ(ValuesOf(*first), (std::vector<int>{0, 1, 2, 3}));
  // The same request until it is finished.
  EXPECT_EQ(ValuesOf(*Current(5)), (std::vector<int>{0, 1, 2, 3}));
  requests_.Finished();
  std::vector<std::vector<int>> rest;
  while (auto next = Current(5)) {
    rest.push_back(ValuesOf(*next));
    requests_.Finished();
  }
  EXPECT_EQ(rest, (std::vector<std::vector<int>>{{4, 5, 6}, {7, 8, 9, 10, 11}, {12, 13}}));
  EXPECT_EQ(corrupt_samples_, 0u);
}

TEST_F(AssemblerTest, SplitSendsTheFirstHalfFirstAndStopsAtOneSample) {
  Add(5);
  auto whole = Current(100);
  ASSERT_TRUE(whole);
  ASSERT_TRUE(Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0, 1, 2}));  // ceil(5/2) first
  ASSERT_TRUE(Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0, 1}));
  ASSERT_TRUE(Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0}));
  EXPECT_FALSE(Split());  // a single sample cannot be halved
  std::vector<int> order;
  while (auto next = Current(100)) {
    for (int v : ValuesOf(*next)) {
      order.push_back(v);
    }
    requests_.Finished();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(AssemblerTest, AcknowledgesOnlyWhatIsFinished) {
  Add(4);
  Add(4);
  ASSERT_TRUE(Current(4));
  requests_.AckIfAllFinished(spool_);  // nothing finished yet: nothing acknowledged
  EXPECT_EQ(spool_.Stats().pending_samples, 8u);
  requests_.Finished();
  ASSERT_TRUE(Current(4));  // reading on acknowledges the finished first record
  EXPECT_EQ(spool_.Stats().pending_samples, 4u);
  Split();
  requests_.Finished();  // half of the second record is out
  requests_.AckIfAllFinished(spool_);
  EXPECT_EQ(spool_.Stats().pending_samples, 4u);
  requests_.Finished();
  EXPECT_FALSE(Current(4));  // all finished: acknowledged, and nothing more to read
  EXPECT_EQ(spool_.Stats().pending_samples, 0u);
}

TEST_F(AssemblerTest, ARecordThatCannotBeDecodedIsReportedAndSkipped) {
  Add(2);
  spool_.Append("not a batch", 6, 1);
  Add(3);
  EXPECT_EQ(Drain(100, false), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(corrupt_samples_, 6u);
}

TEST_F(AssemblerTest, AFinishedRecordGoesOutAsItIsWhenTheShipperTakesThem) {
  const std::string payload = AddReady(3);
  auto request = Current(100, /*sends_ready=*/true);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->body, std::string_view(payload).substr(1));  // the very bytes, untouched
  EXPECT_EQ(ValuesOf(*request), (std::vector<int>{0, 1, 2}));
  requests_.Finished();
  EXPECT_FALSE(Current(100, true));
  EXPECT_EQ(spool_.Stats().pending_samples, 0u);
}

TEST_F(AssemblerTest, ABacklogOfFinishedRecordsIsJoinedIntoOneBodyWithinTheLimit) {
  AddReady(2);
  AddReady(3);  // read with the first: 5 <= 5
  AddReady(2);
  auto joined = Current(5, true);
  ASSERT_TRUE(joined);
  EXPECT_EQ(ValuesOf(*joined), (std::vector<int>{0, 1, 2, 3, 4}));
  requests_.Finished();
  EXPECT_EQ(Drain(5, true), (std::vector<int>{5, 6}));
  EXPECT_EQ(corrupt_samples_, 0u);
}

TEST_F(AssemblerTest, SplittingAFinishedBodyHalvesItsSamplesInOrder) {
  AddReady(5);
  ASSERT_TRUE(Current(100, true));
  ASSERT_TRUE(Split());
  auto first_half = Current(100, true);
  ASSERT_TRUE(first_half);
  EXPECT_TRUE(first_half->body.empty());  // now samples, for the shipper to encode
  EXPECT_EQ(ValuesOf(*first_half), (std::vector<int>{0, 1, 2}));
  requests_.Finished();
  EXPECT_EQ(Drain(100, true), (std::vector<int>{3, 4}));
  EXPECT_EQ(spool_.Stats().pending_samples, 0u);
}

TEST_F(AssemblerTest, BatchAndFinishedRecordsKeepTheirOrderForEitherKindOfShipper) {
  Add(2);
  AddReady(3);
  Add(1);
  AddReady(2);
  EXPECT_EQ(Drain(100, true), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  // A shipper that does not take finished bodies (its type changed) gets them decoded,
  // joined with the batch records read with them (a read stops before the limit is passed).
  Add(2);
  AddReady(3);
  Add(1);
  std::vector<std::vector<int>> requests;
  while (auto next = Current(4, false)) {
    EXPECT_TRUE(next->body.empty());
    requests.push_back(ValuesOf(*next));
    requests_.Finished();
  }
  EXPECT_EQ(requests, (std::vector<std::vector<int>>{{8, 9}, {10, 11, 12, 13}}));
  EXPECT_EQ(corrupt_samples_, 0u);
}

TEST_F(AssemblerTest, AFinishedRecordThatCannotBeDecodedIsReportedWhereItMustBeDecoded) {
  spool_.Append(std::string("\x02not snappy"), 4, 1);
  AddReady(2);
  EXPECT_EQ(Drain(100, false), (std::vector<int>{0, 1}));
  EXPECT_EQ(corrupt_samples_, 4u);
}

}  // namespace
}  // namespace metricsd::queue
