#include "queue/retry_policy.h"

#include <gtest/gtest.h>

namespace metricsd::queue {
namespace {

using std::chrono::milliseconds;
using Action = RetryPolicy::Action;

RetryPolicy Policy(bool retry_on_429 = true) {
  return RetryPolicy(RetryPolicy::Options{.min_backoff = milliseconds(100),
                                          .max_backoff = milliseconds(1600),
                                          .max_retry_after = milliseconds(60'000),
                                          .retry_on_429 = retry_on_429});
}

SendResult Result(SendResult::Kind kind, int status, std::optional<milliseconds> retry_after = {},
                  std::string reason = {}) {
  return SendResult{kind, status, retry_after, std::move(reason)};
}

TEST(RetryPolicy, BackoffDoublesUpToTheCapWithEqualJitter) {
  const RetryPolicy policy = Policy();
  // random 1.0 → the full base; random 0 → half of it.
  EXPECT_EQ(policy.Backoff(1, 1.0), milliseconds(100));
  EXPECT_EQ(policy.Backoff(2, 1.0), milliseconds(200));
  EXPECT_EQ(policy.Backoff(3, 1.0), milliseconds(400));
  EXPECT_EQ(policy.Backoff(5, 1.0), milliseconds(1600));
  EXPECT_EQ(policy.Backoff(6, 1.0), milliseconds(1600));
  EXPECT_EQ(policy.Backoff(1000, 1.0), milliseconds(1600));
  EXPECT_EQ(policy.Backoff(1, 0.0), milliseconds(50));
  EXPECT_EQ(policy.Backoff(3, 0.5), milliseconds(300));
  EXPECT_EQ(policy.Backoff(1000, 0.0), milliseconds(800));
  EXPECT_EQ(policy.Backoff(0, 1.0), milliseconds(100));  // defensive: attempt < 1
}

TEST(RetryPolicy, NetworkErrorsAnd5xxAreRetried) {
  const RetryPolicy policy = Policy();
  for (int status : {0, 500, 502, 503, 504}) {
    const auto d = policy.Decide(Result(SendResult::Kind::kRetry, status), 2, 1.0);
    EXPECT_EQ(d.action, Action::kRetry) << status;
    EXPECT_EQ(d.delay, milliseconds(200)) << status;
  }
}

TEST(RetryPolicy, OkIsDone) {
  EXPECT_EQ(Policy().Decide(SendResult::Ok(204), 1, 0.3).action, Action::kDone);
}

TEST(RetryPolicy, RetryAfterIsHonouredButCappedAndFloored) {
  const RetryPolicy policy = Policy();
  auto d = policy.Decide(Result(SendResult::Kind::kRetry, 503, milliseconds(7000)), 1, 0.0);
  EXPECT_EQ(d.action, Action::kRetry);
  EXPECT_EQ(d.delay, milliseconds(7000));  // beyond max_backoff: the receiver knows best
  d = policy.Decide(Result(SendResult::Kind::kRetry, 429, milliseconds(3'600'000)), 1, 0.0);
  EXPECT_EQ(d.delay, milliseconds(60'000));
  d = policy.Decide(Result(SendResult::Kind::kRetry, 429, milliseconds(0)), 1, 0.0);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST(RetryPolicy, TooManyRequestsFollowsRetryOn429) {
  EXPECT_EQ(Policy(true).Decide(Result(SendResult::Kind::kRetry, 429), 1, 1.0).action,
            Action::kRetry);
  const auto d = Policy(false).Decide(Result(SendResult::Kind::kRetry, 429), 1, 1.0);
  EXPECT_EQ(d.action, Action::kDrop);
  EXPECT_EQ(d.drop_reason, "http_429");
}

TEST(RetryPolicy, DataErrorsAreDroppedWithTheStatusAsReason) {
  for (int status : {400, 409, 422}) {
    const auto d = Policy().Decide(Result(SendResult::Kind::kDrop, status), 1, 0.5);
    EXPECT_EQ(d.action, Action::kDrop);
    EXPECT_EQ(d.drop_reason, "http_" + std::to_string(status));
  }
}

TEST(RetryPolicy, RefusedCredentialsAndWrongPathsHoldForTheLongestBackoff) {
  for (int status : {401, 403, 404}) {
    const auto d = Policy().Decide(Result(SendResult::Kind::kDrop, status), 1, 0.5);
    EXPECT_EQ(d.action, Action::kHold) << status;
    EXPECT_EQ(d.delay, milliseconds(1600)) << status;  // one probe per max_backoff
  }
}

TEST(RetryPolicy, HoldStatusesAreConfigurable) {
  RetryPolicy::Options options{.min_backoff = milliseconds(100), .max_backoff = milliseconds(900)};
  options.hold_on_status = {401, 503};
  const RetryPolicy policy(options);
  EXPECT_EQ(policy.Decide(Result(SendResult::Kind::kDrop, 401), 1, 0.5).action, Action::kHold);
  EXPECT_EQ(policy.Decide(Result(SendResult::Kind::kRetry, 503), 1, 0.5).action, Action::kHold);
  EXPECT_EQ(policy.Decide(Result(SendResult::Kind::kDrop, 404), 1, 0.5).action, Action::kDrop);
  options.hold_on_status.clear();
  EXPECT_EQ(RetryPolicy(options).Decide(Result(SendResult::Kind::kDrop, 401), 1, 0.5).action,
            Action::kDrop);
  // A delivered request is never held, whatever its status.
  EXPECT_EQ(policy.Decide(Result(SendResult::Kind::kOk, 401), 1, 0.5).action, Action::kDone);
}

TEST(RetryPolicy, TooLargeSplits) {
  EXPECT_EQ(Policy().Decide(Result(SendResult::Kind::kTooLarge, 413), 1, 0.5).action,
            Action::kSplit);
}

TEST(RetryPolicy, OptionsAreMadeConsistent) {
  const RetryPolicy policy(RetryPolicy::Options{.min_backoff = milliseconds(0),
                                                .max_backoff = milliseconds(0),
                                                .max_retry_after = milliseconds(0)});
  EXPECT_GE(policy.Backoff(1, 0.0), milliseconds(1));
  EXPECT_GE(policy.options().max_backoff, policy.options().min_backoff);
}

TEST(RetryPolicy, FromConfigQueueOptions) {
  config::QueueOptions options;
  options.min_backoff = milliseconds(30);
  options.max_backoff = milliseconds(5000);
  options.retry_on_429 = false;
  const RetryPolicy policy(options);
  EXPECT_EQ(policy.Backoff(1, 1.0), milliseconds(30));
  EXPECT_EQ(policy.Backoff(20, 1.0), milliseconds(5000));
  EXPECT_FALSE(policy.options().retry_on_429);
}

TEST(DropReason, StatusOrSanitisedShipperReason) {
  EXPECT_EQ(DropReason(Result(SendResult::Kind::kDrop, 400)), "http_400");
  EXPECT_EQ(DropReason(Result(SendResult::Kind::kDrop, 0, {}, "Encode failed: bad UTF-8!")),
            "encode_failed_bad_utf_8");
  EXPECT_EQ(DropReason(Result(SendResult::Kind::kDrop, 0, {}, "")), "rejected");
  EXPECT_EQ(DropReason(Result(SendResult::Kind::kDrop, 0, {}, std::string(100, 'a'))).size(), 32U);
}

}  // namespace
}  // namespace metricsd::queue
