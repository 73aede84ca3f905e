#include "queue/request_assembler.h"

#include <gtest/gtest.h>

#include <vector>

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
  std::vector<int> ValuesOf(const SampleRange& range) const {
    std::vector<int> values;
    for (std::size_t i = range.begin; i < range.end; ++i) {
      values.push_back(static_cast<int>(range.views->samples[i].value));
    }
    return values;
  }
  std::optional<SampleRange> Current(std::size_t max_samples) {
    return requests_.Current(spool_, max_samples, kNoByteLimit,
                             [this](std::uint64_t, const std::string&, std::uint64_t samples) {
                               corrupt_samples_ += samples;
                             });
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
  ASSERT_TRUE(requests_.Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0, 1, 2}));  // ceil(5/2) first
  ASSERT_TRUE(requests_.Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0, 1}));
  ASSERT_TRUE(requests_.Split());
  EXPECT_EQ(ValuesOf(*Current(100)), (std::vector<int>{0}));
  EXPECT_FALSE(requests_.Split());  // a single sample cannot be halved
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
  requests_.Split();
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
  std::vector<int> values;
  while (auto next = Current(100)) {
    for (int v : ValuesOf(*next)) {
      values.push_back(v);
    }
    requests_.Finished();
  }
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(corrupt_samples_, 6u);
}

}  // namespace
}  // namespace metricsd::queue
