#include "queue/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace metricsd::queue {

RetryPolicy::RetryPolicy(const Options& options) : options_(options) {
  options_.min_backoff = std::max(options_.min_backoff, std::chrono::milliseconds(1));
  options_.max_backoff = std::max(options_.max_backoff, options_.min_backoff);
  options_.max_retry_after = std::max(options_.max_retry_after, options_.min_backoff);
}

RetryPolicy::RetryPolicy(const config::QueueOptions& options)
    : RetryPolicy(Options{.min_backoff = options.min_backoff,
                          .max_backoff = options.max_backoff,
                          .max_retry_after = options.max_retry_after,
                          .retry_on_429 = options.retry_on_429,
                          .hold_on_status = options.hold_on_status}) {}

std::chrono::milliseconds RetryPolicy::Backoff(int attempt, double random01) const {
  const auto min = static_cast<double>(options_.min_backoff.count());
  const auto max = static_cast<double>(options_.max_backoff.count());
  // Clamp the exponent first: 2^62 would overflow the millisecond count.
  const int exponent = std::clamp(attempt - 1, 0, 62);
  const double base = std::min(max, min * std::ldexp(1.0, exponent));
  const double r = std::clamp(random01, 0.0, 1.0);
  const double jittered = base / 2 + r * base / 2;
  return std::chrono::milliseconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(jittered))));
}

RetryPolicy::Decision RetryPolicy::Decide(const SendResult& result, int attempt,
                                          double random01) const {
  if (result.kind != SendResult::Kind::kOk && result.http_status > 0 &&
      std::find(options_.hold_on_status.begin(), options_.hold_on_status.end(),
                result.http_status) != options_.hold_on_status.end()) {
    return {Action::kHold, options_.max_backoff, {}};
  }
  switch (result.kind) {
    case SendResult::Kind::kOk:
      return {};
    case SendResult::Kind::kTooLarge:
      return {Action::kSplit, {}, {}};
    case SendResult::Kind::kDrop:
      return {Action::kDrop, {}, DropReason(result)};
    case SendResult::Kind::kRetry:
      break;
  }
  if (result.http_status == 429 && !options_.retry_on_429) {
    return {Action::kDrop, {}, DropReason(result)};
  }
  if (result.retry_after.has_value()) {
    const auto delay =
        std::clamp(*result.retry_after, options_.min_backoff, options_.max_retry_after);
    return {Action::kRetry, delay, {}};
  }
  return {Action::kRetry, Backoff(attempt, random01), {}};
}

std::string DropReason(const SendResult& result) {
  if (result.http_status > 0) {
    return "http_" + std::to_string(result.http_status);
  }
  std::string reason;
  for (char c : result.reason) {
    if (reason.size() == 32) {
      break;
    }
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      reason.push_back(c);
    } else if (!reason.empty() && reason.back() != '_') {
      reason.push_back('_');
    }
  }
  while (!reason.empty() && reason.back() == '_') {
    reason.pop_back();
  }
  return reason.empty() ? "rejected" : reason;
}

}  // namespace metricsd::queue
