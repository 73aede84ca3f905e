// RetryPolicy: what the send loop does with one Shipper verdict. A value type with no clock
// and no random source of its own: the caller passes the attempt number and a uniform random
// number in [0, 1), so tests drive it exactly.
//
//   kOk                       → kDone
//   kRetry (network, 5xx)     → kRetry after a capped exponential backoff with jitter
//   kRetry with 429           → kRetry (kDrop "http_429" when retry_on_429 is false)
//   kDrop (other 4xx)         → kDrop, reason "http_<status>" (or the shipper's reason)
//   kTooLarge (413)           → kSplit; the loop halves the batch, a single sample is dropped
//   a status in hold_on_status → kHold (default 401, 403, 404): the receiver refuses our
//                                credentials or does not exist at that path, which no batch
//                                can fix; the loop keeps everything queued and probes once
//                                per max_backoff until the configuration or a credential
//                                file changes (docs/queue.md explains the choice)
// A Retry-After from the receiver replaces the computed backoff, capped at max_retry_after and
// never below min_backoff (so "Retry-After: 0" cannot make a busy loop).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/options.h"
#include "shippers/shipper.h"

namespace metricsd::queue {

class RetryPolicy {
 public:
  struct Options {
    std::chrono::milliseconds min_backoff{500};
    std::chrono::milliseconds max_backoff{std::chrono::minutes(1)};
    std::chrono::milliseconds max_retry_after{std::chrono::minutes(5)};
    bool retry_on_429 = true;
    std::vector<int> hold_on_status{401, 403, 404};
  };

  enum class Action { kDone, kRetry, kDrop, kSplit, kHold };

  struct Decision {
    Action action = Action::kDone;
    std::chrono::milliseconds delay{0};  // kRetry, kHold: wait this long before the next attempt
    std::string drop_reason;             // kDrop: label value for dropped_total{reason}
  };

  RetryPolicy() = default;
  explicit RetryPolicy(const Options& options);
  explicit RetryPolicy(const config::QueueOptions& options);

  // `attempt` counts the failed attempts of this batch so far, this one included (1 for the
  // first failure). `random01` is uniform in [0, 1).
  Decision Decide(const SendResult& result, int attempt, double random01) const;

  // Backoff after `attempt` failures: base = min(max_backoff, min_backoff * 2^(attempt-1)),
  // then "equal jitter": base/2 + random01 * base/2, so retries of many agents spread out
  // but never fall to zero.
  std::chrono::milliseconds Backoff(int attempt, double random01) const;

  const Options& options() const noexcept { return options_; }

 private:
  Options options_;
};

// Label value for a dropped batch: "http_<status>" when there was a response, else the
// shipper's reason reduced to [a-z0-9_] and 32 characters ("rejected" when empty).
std::string DropReason(const SendResult& result);

}  // namespace metricsd::queue
