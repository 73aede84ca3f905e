#include "queue/shipper_queue.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>

#include <filesystem>
#include <future>

#include <gtest/gtest.h>

#include "queue/batch_codec.h"
#include "queue/data_dir.h"
#include "test_util.h"

namespace metricsd::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Answer;
using testing::FakeClock;
using testing::FakeShipper;
using testing::MakeBatch;
using testing::Range;
using testing::ReadyRecords;
using testing::Retry;
using testing::TempDir;
using testing::Values;
using testing::WaitUntil;

// The first sample of family `name` with a label whose value is `label_value` (any sample
// when empty).
double MetricValue(const std::vector<MetricFamily>& families, std::string_view name,
                   std::string_view label_value = {}) {
  for (const MetricFamily& family : families) {
    if (family.name != name) {
      continue;
    }
    for (const Sample& sample : family.samples) {
      bool match = label_value.empty();
      for (const Label& label : sample.labels) {
        match = match || (label.name != "shipper" && label.value == label_value);
      }
      if (match) {
        return sample.value;
      }
    }
  }
  ADD_FAILURE() << "no metric " << name << " " << label_value;
  return -1;
}

class ShipperQueueTest : public ::testing::Test {
 protected:
  ShipperQueueOptions Options() {
    ShipperQueueOptions options;
    options.name = "test";
    options.dir = tmp_.sub("queue");
    options.queue.fsync = false;
    options.queue.min_backoff = milliseconds(100);
    options.queue.max_backoff = seconds(1);
    options.max_samples_per_request = 1000;
    return options;
  }

  FakeShipper& Make(ShipperQueueOptions options) {
    queue_.reset();
    auto shipper = std::make_unique<FakeShipper>();
    FakeShipper& ref = *shipper;
    queue_ = std::make_unique<ShipperQueue>(std::move(options), std::move(shipper), clock_,
                                            [] { return 0.999; });
    return ref;
  }
  FakeShipper& Make() { return Make(Options()); }

  // Moves the fake clock past any backoff and lets the sender look at it.
  void Tick(std::chrono::nanoseconds d = seconds(2)) {
    clock_.Advance(d);
    queue_->Wake();
  }

  TempDir tmp_;
  FakeClock clock_;
  std::unique_ptr<ShipperQueue> queue_;
};

TEST_F(ShipperQueueTest, DeliversInOrderAndAcknowledges) {
  FakeShipper& shipper = Make();
  queue_->Start();
  for (int i = 0; i < 20; ++i) {
    queue_->Enqueue(MakeBatch(i * 5, 5));
  }
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 100; }));
  EXPECT_EQ(shipper.delivered(), Range(0, 100));
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_sent_total"), 100);
  EXPECT_GT(MetricValue(queue_->Metrics(), "metricsd_shipper_last_success_timestamp_seconds"), 0);

  // After a restart nothing acknowledged comes back.
  FakeShipper& again = Make();
  queue_->Start();
  queue_->Enqueue(MakeBatch(100, 3));
  ASSERT_TRUE(WaitUntil([&] { return again.delivered().size() == 3; }));
  EXPECT_EQ(again.delivered(), Range(100, 103));
}

TEST_F(ShipperQueueTest, RetriesWithBackoffAndNothingOvertakesTheFailedBatch) {
  ShipperQueueOptions options = Options();
  options.max_samples_per_request = 5;
  FakeShipper& shipper = Make(options);
  shipper.Script(Answer(Retry(503)));
  shipper.Script(Answer(Retry(0)));
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Enqueue(MakeBatch(5, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).next_retry_in.has_value(); }));
  EXPECT_EQ(shipper.calls(), 1);
  // First failure: min_backoff with jitter 0.999 → 100 ms.
  EXPECT_EQ(*queue_->Health(seconds(60)).next_retry_in, milliseconds(100));
  Tick(milliseconds(100));
  ASSERT_TRUE(WaitUntil([&] { return shipper.calls() >= 2; }));
  ASSERT_TRUE(WaitUntil([&] {
    auto h = queue_->Health(seconds(60));
    return h.next_retry_in.has_value() && *h.next_retry_in == milliseconds(200);
  }));
  Tick(milliseconds(200));
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 10; }));
  EXPECT_EQ(shipper.delivered(), Range(0, 10));
  const auto attempts = shipper.attempts();
  ASSERT_EQ(attempts.size(), 4U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Values(attempts[i]), Range(0, 5));
  }
  EXPECT_EQ(Values(attempts[3]), Range(5, 10));
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_retried_total"), 10);
  EXPECT_FALSE(queue_->Health(seconds(60)).next_retry_in.has_value());
}

// A shipper that encodes at send time reports its encoder's changes with each attempt; only
// the delivered request's count, and what the format left out is dropped, not sent.
TEST_F(ShipperQueueTest, EncoderChangesCountOnceForTheDeliveredRequest) {
  FakeShipper& shipper = Make();
  shipper.ChangesPerSend({.samples_skipped_non_finite = 2, .label_names_sanitized = 1});
  shipper.Script(Answer(Retry(503)));
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).next_retry_in.has_value(); }));
  Tick();
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 5; }));
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(shipper.calls(), 2);
  const std::vector<MetricFamily> metrics = queue_->Metrics();
  EXPECT_EQ(MetricValue(metrics, "metricsd_shipper_samples_dropped_total", "non_finite"), 2);
  EXPECT_EQ(MetricValue(metrics, "metricsd_shipper_samples_sent_total"), 3);
  EXPECT_EQ(MetricValue(metrics, "metricsd_shipper_encoder_fixes_total", "label_name_sanitized"),
            1);
  EXPECT_EQ(MetricValue(metrics, "metricsd_shipper_encoder_fixes_total", "metric_name_sanitized"),
            0);
  // Remote write requests are encoded by the producers, who report their changes.
  queue_->CountEncoderChanges({.metric_names_sanitized = 4});
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_encoder_fixes_total",
                        "metric_name_sanitized"),
            4);
}

TEST_F(ShipperQueueTest, RetryAfterReplacesTheBackoff) {
  FakeShipper& shipper = Make();
  shipper.Script(Answer(SendResult{SendResult::Kind::kRetry, 429, seconds(10), "slow down"}));
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 3));
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).next_retry_in.has_value(); }));
  EXPECT_EQ(*queue_->Health(seconds(60)).next_retry_in, seconds(10));
  Tick(seconds(9));
  EXPECT_EQ(*queue_->Health(seconds(60)).next_retry_in, seconds(1));
  Tick(seconds(1));
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 3; }));
  EXPECT_EQ(shipper.calls(), 2);
}

TEST_F(ShipperQueueTest, BadRequestIsDroppedCountedAndNotRetried) {
  ShipperQueueOptions options = Options();
  options.max_samples_per_request = 5;
  FakeShipper& shipper = Make(options);
  shipper.Script(Answer(testing::Drop(400)));
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Enqueue(MakeBatch(5, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 5; }));
  EXPECT_EQ(shipper.delivered(), Range(5, 10));
  EXPECT_EQ(shipper.calls(), 2);
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "http_400"),
            5);
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_retried_total"), 0);
  EXPECT_EQ(queue_->Health(seconds(60)).last_error, "bad request");
  // The status page's figures agree with the self-metrics.
  ShipperHealth health = queue_->Health(seconds(60));
  EXPECT_EQ(health.sent_samples, 5U);
  EXPECT_EQ(health.retried_samples, 0U);
  EXPECT_EQ(health.dropped_samples, (std::map<std::string, std::uint64_t>{{"http_400", 5}}));
}

bool HasDropReason(const std::vector<MetricFamily>& families, std::string_view reason) {
  for (const MetricFamily& family : families) {
    for (const Sample& sample : family.samples) {
      for (const Label& label : sample.labels) {
        if (family.name == "metricsd_shipper_samples_dropped_total" && label.name == "reason" &&
            label.value == reason) {
          return true;
        }
      }
    }
  }
  return false;
}

// An expired token, a revoked client or a wrong path: nothing is dropped, the queue holds and
// probes once per max_backoff instead of draining the buffer at full speed.
TEST_F(ShipperQueueTest, RefusedCredentialsHoldTheQueueAndProbeOncePerMaxBackoff) {
  for (int status : {401, 403, 404}) {
    SCOPED_TRACE(status);
    FakeShipper& shipper = Make();
    shipper.Fallback(Answer(testing::Drop(status)));
    for (int i = 0; i < 10; ++i) {
      queue_->Enqueue(MakeBatch(i * 5, 5));
    }
    queue_->Start();
    ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).held; }));
    ShipperHealth health = queue_->Health(seconds(60));
    EXPECT_TRUE(health.degraded);
    EXPECT_NE(health.reason.find("bad request"), std::string::npos) << health.reason;
    EXPECT_EQ(health.pending_samples, 50U);
    EXPECT_GT(health.disk_bytes, 0U);
    EXPECT_TRUE(health.oldest_pending_ms.has_value());
    EXPECT_TRUE(health.dropped_samples.empty());
    EXPECT_EQ(*health.next_retry_in, seconds(1));  // max_backoff
    EXPECT_EQ(shipper.calls(), 1);
    EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_held"), 1);

    // One probe when max_backoff has passed, and still nothing dropped.
    Tick(milliseconds(1001));
    ASSERT_TRUE(WaitUntil([&] { return shipper.calls() == 2; }));
    ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).next_retry_in.has_value(); }));
    EXPECT_EQ(queue_->QueueStats().pending_samples, 50U);
    EXPECT_FALSE(HasDropReason(queue_->Metrics(), "http_" + std::to_string(status)));

    // The receiver takes our requests again: everything goes out, in order.
    shipper.Fallback(Answer(SendResult::Ok()));
    Tick(milliseconds(1001));
    ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 50; }));
    EXPECT_EQ(shipper.delivered(), Range(0, 50));
    ASSERT_TRUE(WaitUntil([&] { return !queue_->Health(seconds(60)).held; }));
    EXPECT_FALSE(queue_->Health(seconds(60)).degraded);
    EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_held"), 0);
    queue_.reset();
    std::filesystem::remove_all(Options().dir);
  }
}

TEST_F(ShipperQueueTest, DataErrorsStillDropOnlyTheOffendingBatch) {
  ShipperQueueOptions options = Options();
  options.queue.hold_on_status = {401};
  options.max_samples_per_request = 5;
  FakeShipper& shipper = Make(options);
  shipper.Script(Answer(testing::Drop(404)));  // not held by this configuration
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Enqueue(MakeBatch(5, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 5; }));
  EXPECT_EQ(shipper.delivered(), Range(5, 10));
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "http_404"),
            5);
}

// A new password or token file ends the hold at once, without waiting for the next probe.
TEST_F(ShipperQueueTest, ChangedCredentialFileEndsTheHoldAtOnce) {
  const std::string secret = tmp_.sub("password");
  std::ofstream(secret) << "wrong\n";
  ShipperQueueOptions options = Options();
  options.queue.max_backoff = std::chrono::minutes(10);
  options.credential_files = {secret};
  std::atomic<FakeShipper*> remade{nullptr};
  options.remake_shipper = [&]() -> Result<std::unique_ptr<Shipper>> {
    auto fresh = std::make_unique<FakeShipper>();
    remade = fresh.get();
    return std::unique_ptr<Shipper>(std::move(fresh));
  };
  FakeShipper& refused = Make(options);
  refused.Fallback(Answer(testing::Drop(401)));
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).held; }));
  EXPECT_EQ(refused.calls(), 1);  // the refused shipper is gone after the switch

  std::ofstream(secret) << "right-password\n";
  Tick(seconds(2));  // the next look at the files, a minute's wait before the next probe
  ASSERT_TRUE(WaitUntil([&] { return remade.load() != nullptr; }));
  ASSERT_TRUE(WaitUntil([&] { return remade.load()->delivered().size() == 5; }));
  EXPECT_EQ(remade.load()->delivered(), Range(0, 5));
  ASSERT_TRUE(WaitUntil([&] { return !queue_->Health(seconds(60)).held; }));
}

// A reload hands the queue a new shipper: a held queue resumes at once, and nothing queued is
// lost or sent twice in the switch.
TEST_F(ShipperQueueTest, ReconfigureSwapsTheShipperAndEndsTheHold) {
  ShipperQueueOptions options = Options();
  options.queue.max_backoff = std::chrono::minutes(10);
  FakeShipper& refused = Make(options);
  refused.Fallback(Answer(testing::Drop(403)));
  queue_->Enqueue(MakeBatch(0, 5));
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).held; }));
  EXPECT_EQ(refused.calls(), 1);
  EXPECT_EQ(refused.delivered().size(), 0U);
  queue_->Enqueue(MakeBatch(5, 5));

  auto next = std::make_unique<FakeShipper>();
  FakeShipper& accepted = *next;
  options.max_samples_per_request = 3;
  queue_->Reconfigure(std::move(next), options);
  ASSERT_TRUE(WaitUntil([&] { return accepted.delivered().size() == 10; }));
  EXPECT_EQ(accepted.delivered(), Range(0, 10));
  // The request being held was cut before the switch; what is read afterwards follows the
  // new request limit.
  const std::vector<Batch> attempts = accepted.attempts();
  ASSERT_GE(attempts.size(), 3U);
  for (std::size_t i = 1; i < attempts.size(); ++i) {
    EXPECT_LE(Values(attempts[i]).size(), 3U);
  }
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
}

// The watchdog's view of a sender: waiting for data is progress, a send stuck past its limit
// is not.
TEST_F(ShipperQueueTest, ProgressShowsASendStuckPastItsLimit) {
  ShipperQueueOptions options = Options();
  options.stall_after = milliseconds(50);
  FakeShipper& shipper = Make(options);
  queue_->Start();
  const auto far_future = std::chrono::steady_clock::now() + std::chrono::hours(1);
  ASSERT_TRUE(WaitUntil([&] { return !queue_->progress().StalledFor(far_future); }));
  shipper.Block(seconds(30));
  queue_->Enqueue(MakeBatch(0, 5));
  ASSERT_TRUE(WaitUntil([&] { return shipper.in_send(); }));
  ASSERT_TRUE(WaitUntil(
      [&] { return queue_->progress().StalledFor(std::chrono::steady_clock::now()).has_value(); }));
  shipper.Release();
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 5; }));
  ASSERT_TRUE(WaitUntil([&] { return !queue_->progress().StalledFor(far_future); }));
}

TEST_F(ShipperQueueTest, TooLargeSplitsInHalvesDownToOneSample) {
  FakeShipper& shipper = Make();
  shipper.Fallback([](const Batch& batch) {
    const auto values = Values(batch);
    const bool has_seven = std::find(values.begin(), values.end(), 7) != values.end();
    if (values.size() > 2 || has_seven) {
      return SendResult{SendResult::Kind::kTooLarge, 413, std::nullopt, "too large"};
    }
    return SendResult::Ok();
  });
  queue_->Enqueue(MakeBatch(0, 10));
  queue_->Start();
  std::vector<int> expected = Range(0, 10);
  expected.erase(expected.begin() + 7);
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 9; }));
  EXPECT_EQ(shipper.delivered(), expected);
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "too_large"),
            1);
}

TEST_F(ShipperQueueTest, BacklogAfterAnOutageIsMergedAndCatchesUp) {
  FakeShipper& shipper = Make();
  shipper.Fallback(Answer(Retry(502)));
  queue_->Start();
  for (int i = 0; i < 100; ++i) {
    queue_->Enqueue(MakeBatch(i * 10, 10));
  }
  ASSERT_TRUE(WaitUntil([&] { return shipper.calls() >= 1; }));
  SpoolStats stats = queue_->QueueStats();
  EXPECT_EQ(stats.pending_samples, 1000U);
  EXPECT_EQ(stats.memory_samples, 0U);
  EXPECT_GT(stats.disk_bytes, 0U);
  shipper.Fallback(Answer(SendResult::Ok()));
  // Keep ticking: the sender may still be finishing the failed send when the clock moves.
  ASSERT_TRUE(WaitUntil([&] {
    Tick();
    return shipper.delivered().size() == 1000;
  }));
  EXPECT_EQ(shipper.delivered(), Range(0, 1000));
  EXPECT_LE(shipper.ok_requests(), 3);  // 100 queued batches, merged up to 1000 samples
}

TEST_F(ShipperQueueTest, LongOutageKeepsMemoryBoundedAndDiskCapped) {
  ShipperQueueOptions options = Options();
  options.queue.max_disk_bytes = 256 << 10;
  options.segment_bytes = 16 << 10;
  FakeShipper& shipper = Make(options);
  shipper.Fallback(Answer(Retry(503)));
  queue_->Start();
  constexpr int kBatches = 2000;
  constexpr int kPerBatch = 20;
  for (int i = 0; i < kBatches; ++i) {
    queue_->Enqueue(MakeBatch(i * kPerBatch, kPerBatch));
  }
  SpoolStats stats = queue_->QueueStats();
  EXPECT_LE(stats.disk_bytes, 256U << 10);
  EXPECT_EQ(stats.memory_samples, 0U);
  EXPECT_EQ(stats.memory_records, 0U);
  const double evicted =
      MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "disk_cap");
  EXPECT_GT(evicted, 0);
  EXPECT_EQ(static_cast<double>(stats.pending_samples) + evicted, kBatches * kPerBatch);

  shipper.Fallback(Answer(SendResult::Ok()));
  // Keep ticking: the sender may still be finishing the failed send when the clock moves.
  ASSERT_TRUE(WaitUntil([&] {
    Tick();
    return queue_->QueueStats().pending_samples == 0;
  }));
  const auto delivered = shipper.delivered();
  EXPECT_EQ(static_cast<double>(delivered.size()) + evicted, kBatches * kPerBatch);
  EXPECT_TRUE(std::is_sorted(delivered.begin(), delivered.end()));
  EXPECT_EQ(std::adjacent_find(delivered.begin(), delivered.end()), delivered.end());
  EXPECT_EQ(delivered.back(), kBatches * kPerBatch - 1);
}

TEST_F(ShipperQueueTest, RestartReplaysUnsentBatchesInOrderOnce) {
  {
    FakeShipper& down = Make();
    down.Fallback(Answer(Retry(503)));
    queue_->Start();
    for (int i = 0; i < 5; ++i) {
      queue_->Enqueue(MakeBatch(i * 5, 5));
    }
    ASSERT_TRUE(WaitUntil([&] { return down.calls() >= 1; }));
    queue_.reset();
  }
  FakeShipper& up = Make();
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return up.delivered().size() >= 25; }));
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(up.delivered(), Range(0, 25));
}

TEST_F(ShipperQueueTest, TooLargeSplitsARequestReadBackFromDiskAfterARestart) {
  {
    FakeShipper& down = Make();
    down.Fallback(Answer(Retry(503)));
    queue_->Start();
    for (int i = 0; i < 6; ++i) {
      queue_->Enqueue(MakeBatch(i * 7, 7));
    }
    ASSERT_TRUE(WaitUntil([&] { return down.calls() >= 1; }));
    queue_.reset();
  }
  // The backlog comes back from disk merged into one 42-sample request; this receiver takes
  // at most 5 samples a request, and never sample 20.
  FakeShipper& small = Make();
  small.Fallback(testing::SmallReceiver);
  queue_->Start();
  std::vector<int> expected = Range(0, 42);
  expected.erase(expected.begin() + 20);
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(small.delivered(), expected);  // each once, in order
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "too_large"),
            1);
  // Everything was acknowledged on disk: a further restart replays nothing.
  FakeShipper& after = Make();
  queue_->Start();
  queue_->Enqueue(MakeBatch(100, 1));
  ASSERT_TRUE(WaitUntil([&] { return after.delivered().size() >= 1; }));
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(after.delivered(), std::vector<int>{100});
}

TEST_F(ShipperQueueTest, TooLargeSplitsAFinishedRequestReadBackFromDiskAfterARestart) {
  // A remote write shipper's queue holds finished requests, one per cycle.
  {
    FakeShipper& down = Make();
    down.TakeReady(true);
    down.Fallback(Answer(Retry(503)));
    queue_->Start();
    for (int i = 0; i < 6; ++i) {
      for (const EncodedBatch& record : ReadyRecords(MakeBatch(i * 7, 7))) {
        queue_->Enqueue(record);
      }
    }
    ASSERT_TRUE(WaitUntil([&] { return down.calls() >= 1; }));
    queue_.reset();
  }
  // The backlog is joined into one 42-sample body; this receiver takes at most 5 samples a
  // request, and never sample 20: the body is decoded and halved like any request.
  FakeShipper& small = Make();
  small.TakeReady(true);
  small.Fallback(testing::SmallReceiver);
  queue_->Start();
  std::vector<int> expected = Range(0, 42);
  expected.erase(expected.begin() + 20);
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(small.delivered(), expected);  // each once, in order
  EXPECT_EQ(small.ready_bodies(), 1);      // the joined backlog, then its halves as samples
  ASSERT_FALSE(small.attempts().empty());
  EXPECT_EQ(Values(small.attempts().front()), Range(0, 42));
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_samples_dropped_total", "too_large"),
            1);
  // Everything was acknowledged on disk: a further restart replays nothing, and a new
  // record goes out as it is.
  FakeShipper& after = Make();
  after.TakeReady(true);
  queue_->Start();
  queue_->Enqueue(ReadyRecords(MakeBatch(100, 1)).at(0));
  ASSERT_TRUE(WaitUntil([&] { return after.delivered().size() >= 1; }));
  ASSERT_TRUE(WaitUntil([&] { return queue_->QueueStats().pending_samples == 0; }));
  EXPECT_EQ(after.delivered(), std::vector<int>{100});
  EXPECT_EQ(after.ready_bodies(), 1);
}

TEST_F(ShipperQueueTest, StopDuringABlockedSendIsBoundedByTheShipperTimeout) {
  FakeShipper& shipper = Make();
  shipper.Block(milliseconds(200));  // the shipper's own timeout
  shipper.Fallback(Answer(Retry(0)));
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 4));
  ASSERT_TRUE(WaitUntil([&] { return shipper.in_send(); }));
  auto stopped = std::async(std::launch::async, [&] { queue_->Stop(); });
  ASSERT_EQ(stopped.wait_for(seconds(30)), std::future_status::ready);

  // The batch was not delivered, so it is sent after the restart.
  FakeShipper& next = Make();
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return next.delivered().size() == 4; }));
  EXPECT_EQ(next.delivered(), Range(0, 4));
}

TEST_F(ShipperQueueTest, SendThatSucceedsDuringStopIsAcknowledged) {
  FakeShipper& shipper = Make();
  shipper.Block(seconds(60));
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 4));
  ASSERT_TRUE(WaitUntil([&] { return shipper.in_send(); }));
  auto stopped = std::async(std::launch::async, [&] { queue_->Stop(); });
  shipper.Release();
  ASSERT_EQ(stopped.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(shipper.delivered(), Range(0, 4));

  FakeShipper& next = Make();
  queue_->Start();
  queue_->Enqueue(MakeBatch(100, 1));
  ASSERT_TRUE(WaitUntil([&] { return next.delivered().size() == 1; }));
  EXPECT_EQ(next.delivered(), Range(100, 101));
}

TEST_F(ShipperQueueTest, StopBetweenRequestsOfOneRecordLeavesTheRestQueued) {
  // One record of 6 samples goes out as three requests of 2; the queue stops after the first.
  ShipperQueueOptions options = Options();
  options.max_samples_per_request = 2;
  FakeShipper& shipper = Make(options);
  shipper.Block(seconds(60));
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 6));
  ASSERT_TRUE(WaitUntil([&] { return shipper.in_send(); }));
  auto stopped = std::async(std::launch::async, [&] { queue_->Stop(); });
  ASSERT_TRUE(WaitUntil([&] { return queue_->stopping(); }));
  shipper.Release();
  ASSERT_EQ(stopped.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_EQ(shipper.delivered(), Range(0, 2));

  // The record was not acknowledged: after the restart it is sent again, whole.
  FakeShipper& next = Make(options);
  queue_->Start();
  ASSERT_TRUE(WaitUntil([&] { return next.delivered().size() == 6; }));
  EXPECT_EQ(next.delivered(), Range(0, 6));
}

TEST_F(ShipperQueueTest, HealthDegradesOnlyWhileDataWaitsTooLong) {
  FakeShipper& shipper = Make();
  shipper.Fallback(Answer(Retry(500)));
  clock_.Advance(std::chrono::hours(1));  // idle for an hour: still healthy
  EXPECT_FALSE(queue_->Health(seconds(60)).degraded);
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 2));
  // The verdict is recorded just after the call returns: wait for the record, not the call.
  ASSERT_TRUE(WaitUntil([&] { return !queue_->Health(seconds(60)).last_error.empty(); }));
  ShipperHealth health = queue_->Health(seconds(60));
  EXPECT_TRUE(health.degraded);  // never delivered since the start, an hour ago
  EXPECT_NE(health.reason.find("no delivery"), std::string::npos) << health.reason;
  EXPECT_EQ(health.last_error, "unavailable");
  EXPECT_TRUE(health.disk_ok);

  shipper.Fallback(Answer(SendResult::Ok()));
  // Keep ticking: the sender may still be finishing the failed send when the clock moves.
  ASSERT_TRUE(WaitUntil([&] {
    Tick();
    return queue_->QueueStats().pending_samples == 0;
  }));
  health = queue_->Health(seconds(60));
  EXPECT_FALSE(health.degraded);
  EXPECT_TRUE(health.last_success_ms.has_value());

  shipper.Fallback(Answer(Retry(500)));
  queue_->Enqueue(MakeBatch(2, 2));
  ASSERT_TRUE(WaitUntil([&] { return queue_->Health(seconds(60)).next_retry_in.has_value(); }));
  EXPECT_FALSE(queue_->Health(seconds(60)).degraded);  // failing, but only for a moment
  clock_.Advance(seconds(61));
  EXPECT_TRUE(queue_->Health(seconds(60)).degraded);
}

TEST_F(ShipperQueueTest, UnwritableDataDirectoryStillDeliversFromMemory) {
  std::ofstream(tmp_.sub("blocker")) << "x";
  ShipperQueueOptions options = Options();
  options.dir = tmp_.sub("blocker/queue");
  FakeShipper& shipper = Make(options);
  queue_->Start();
  queue_->Enqueue(MakeBatch(0, 5));
  ASSERT_TRUE(WaitUntil([&] { return shipper.delivered().size() == 5; }));
  const ShipperHealth health = queue_->Health(seconds(60));
  EXPECT_FALSE(health.disk_ok);
  EXPECT_TRUE(health.degraded);
  EXPECT_NE(health.reason.find("on-disk queue unusable"), std::string::npos) << health.reason;
  EXPECT_EQ(MetricValue(queue_->Metrics(), "metricsd_shipper_disk_buffer_ok"), 0);
}

TEST_F(ShipperQueueTest, MetricsOfSeveralQueuesShareFamilies) {
  FakeClock clock;
  ShipperQueueOptions a = Options();
  a.name = "a";
  a.dir = tmp_.sub("a");
  ShipperQueueOptions b = Options();
  b.name = "b";
  b.dir.clear();
  ShipperQueue qa(a, std::make_unique<FakeShipper>(), clock);
  ShipperQueue qb(b, std::make_unique<FakeShipper>(), clock);
  qa.Enqueue(MakeBatch(0, 3, 5000));
  std::vector<MetricFamily> families;
  qa.AppendMetrics(families);
  qb.AppendMetrics(families);
  std::set<std::string> names;
  for (const MetricFamily& family : families) {
    EXPECT_TRUE(names.insert(family.name).second) << family.name;
    EXPECT_FALSE(family.help.empty());
    for (const Sample& sample : family.samples) {
      EXPECT_TRUE(IsValidMetricName(sample.name));
    }
  }
  for (const char* name :
       {"metricsd_shipper_samples_sent_total", "metricsd_shipper_samples_retried_total",
        "metricsd_shipper_queue_batches", "metricsd_shipper_queue_bytes",
        "metricsd_shipper_oldest_unsent_timestamp_seconds",
        "metricsd_shipper_last_success_timestamp_seconds",
        "metricsd_shipper_wal_corrupt_records_total"}) {
    auto it = std::find_if(families.begin(), families.end(),
                           [&](const MetricFamily& f) { return f.name == name; });
    ASSERT_NE(it, families.end()) << name;
    EXPECT_EQ(it->samples.size(), 2U) << name;
    EXPECT_EQ(it->samples[0].labels, (Labels{{"shipper", "a"}}));
    EXPECT_EQ(it->samples[1].labels, (Labels{{"shipper", "b"}}));
  }
  EXPECT_EQ(MetricValue(families, "metricsd_shipper_queue_batches"), 1);
  EXPECT_EQ(MetricValue(families, "metricsd_shipper_oldest_unsent_timestamp_seconds"), 5.0);
  EXPECT_EQ(MetricValue(families, "metricsd_shipper_samples_dropped_total", "disk_cap"), 0);
}

TEST(ShipperQueueOptionsTest, FromConfig) {
  config::ShipperOptions shipper;
  shipper.name = "remote/one";
  shipper.max_samples_per_request = 500;
  shipper.queue.max_disk_bytes = 1234;
  const ShipperQueueOptions options = MakeShipperQueueOptions(shipper, "/data");
  EXPECT_EQ(options.dir, "/data/remote_one");
  EXPECT_EQ(options.max_samples_per_request, 500U);
  EXPECT_EQ(options.queue.max_disk_bytes, 1234U);
  EXPECT_EQ(MakeShipperQueueOptions(shipper, "").dir, "");
}

TEST(EncodeForQueue, CarriesCountAndOldestTimestamp) {
  const EncodedBatch encoded = EncodeForQueue(MakeBatch(0, 4, 100));
  EXPECT_EQ(encoded.samples, 4U);
  EXPECT_EQ(encoded.min_timestamp_ms, 100);
  EXPECT_EQ(Values(*DecodeBatch(encoded.payload)), Range(0, 4));
}

}  // namespace
}  // namespace metricsd::queue

namespace metricsd::queue {
namespace {

// A child process enqueues batches while its receiver is down and reports each Enqueue that
// returned; it is killed with SIGKILL mid-stream. Everything reported must be replayed, in
// order, by the next process.
TEST(ShipperQueueKill, SigkillLosesNothingThatWasEnqueued) {
  TempDir tmp;
  ShipperQueueOptions options;
  options.name = "kill";
  options.dir = tmp.sub("queue");
  options.queue.fsync = false;  // a killed process loses nothing even without fsync
  options.max_samples_per_request = 100'000;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    SystemClock clock;
    auto shipper = std::make_unique<FakeShipper>();
    shipper->Fallback(Answer(Retry(503)));
    ShipperQueue queue(options, std::move(shipper), clock);
    queue.Start();
    for (int i = 0;; ++i) {
      queue.Enqueue(MakeBatch(i * 5, 5));
      if (::write(fds[1], &i, sizeof i) != sizeof i) {
        ::_exit(1);
      }
    }
  }
  ::close(fds[1]);
  int confirmed = -1;
  int value = 0;
  while (confirmed < 300 && ::read(fds[0], &value, sizeof value) == sizeof value) {
    confirmed = value;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  while (::read(fds[0], &value, sizeof value) == sizeof value) {
    confirmed = value;
  }
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(confirmed, 300);

  SystemClock clock;
  auto shipper = std::make_unique<FakeShipper>();
  FakeShipper& receiver = *shipper;
  ShipperQueue queue(options, std::move(shipper), clock);
  const int expected = (confirmed + 1) * 5;
  EXPECT_GE(queue.QueueStats().pending_samples, static_cast<std::uint64_t>(expected));
  queue.Start();
  ASSERT_TRUE(WaitUntil([&] { return queue.QueueStats().pending_samples == 0; }));
  auto delivered = receiver.delivered();
  ASSERT_GE(delivered.size(), static_cast<std::size_t>(expected));
  // At most the batch being written when the kill came is extra; nothing is missing.
  EXPECT_LE(delivered.size(), static_cast<std::size_t>(expected + 5));
  EXPECT_EQ(delivered, Range(0, static_cast<int>(delivered.size())));
}

}  // namespace
}  // namespace metricsd::queue
