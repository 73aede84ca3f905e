#include "shippers/http_shipper.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "http/retry_after.h"

namespace metricsd {
namespace {

constexpr std::size_t kMaxBodyInReason = 256;

// Error bodies are shown to operators, never interpreted: keep printable ASCII only, on one
// line, and bounded.
std::string SanitizedBodyExcerpt(std::string_view body, bool truncated) {
  std::string out;
  bool space = false;
  for (char c : body) {
    if (out.size() >= kMaxBodyInReason) {
      truncated = true;
      break;
    }
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += (c >= 0x21 && c <= 0x7e) ? c : '?';
  }
  if (truncated) {
    out += "...";
  }
  return out;
}

}  // namespace

SendResult ClassifyHttpResult(const Result<http::HttpResponse>& result,
                              std::chrono::system_clock::time_point now) {
  if (!result.ok()) {
    return SendResult{SendResult::Kind::kRetry, 0, std::nullopt,
                      "request failed: " + result.error()};
  }
  const http::HttpResponse& r = *result;
  const int status = static_cast<int>(r.status);
  if (status >= 200 && status < 300) {
    return SendResult::Ok(status);
  }
  std::string reason = "HTTP " + std::to_string(status);
  std::string excerpt = SanitizedBodyExcerpt(r.body, r.body_truncated);
  if (!excerpt.empty()) {
    reason += ": " + excerpt;
  }
  if (status == 429 || (status >= 500 && status < 600)) {
    std::optional<std::chrono::milliseconds> retry_after;
    if (!r.retry_after.empty()) {
      retry_after = http::ParseRetryAfter(r.retry_after, now);
    }
    return SendResult{SendResult::Kind::kRetry, status, retry_after, std::move(reason)};
  }
  if (status == 413) {
    return SendResult{SendResult::Kind::kTooLarge, status, std::nullopt, std::move(reason)};
  }
  return SendResult{SendResult::Kind::kDrop, status, std::nullopt, std::move(reason)};
}

HttpShipper::HttpShipper(const config::ShipperOptions& options,
                         std::unique_ptr<http::HttpClient> client)
    : name_(options.name),
      endpoint_(options.endpoint),
      max_samples_per_request_(std::max<std::size_t>(1, options.max_samples_per_request)),
      client_(std::move(client)) {}

SendResult HttpShipper::SendChunks(const SampleRange& range) {
  const std::size_t total = range.size();
  const std::size_t requests = (total + max_samples_per_request_ - 1) / max_samples_per_request_;
  std::optional<SendResult> first_drop;
  std::size_t dropped_requests = 0;
  int last_status = 0;
  http::HttpRequest request;
  request.url = endpoint_;
  for (std::size_t i = 0; i < requests; ++i) {
    const std::size_t begin = i * max_samples_per_request_;
    const std::size_t end = std::min(total, begin + max_samples_per_request_);
    formats::EncodeStats stats;
    EncodeRequest(SampleRange{range.views, range.begin + begin, range.begin + end}, body_, stats);
    request.body = body_;
    stats_ += stats;
    if (stats.samples_written == 0) {
      continue;  // nothing the format can carry (e.g. only NaN for JSON)
    }
    SendResult verdict =
        ClassifyHttpResult(client_->Perform(request), std::chrono::system_clock::now());
    if (verdict.kind == SendResult::Kind::kOk) {
      last_status = verdict.http_status;
      continue;
    }
    if (requests > 1) {
      verdict.reason +=
          " (request " + std::to_string(i + 1) + " of " + std::to_string(requests) + ")";
    }
    if (verdict.kind == SendResult::Kind::kDrop) {
      ++dropped_requests;
      if (!first_drop) {
        first_drop = std::move(verdict);
      }
      continue;
    }
    return verdict;
  }
  if (first_drop) {
    if (requests > 1) {
      first_drop->reason += "; " + std::to_string(dropped_requests) + " of " +
                            std::to_string(requests) + " requests rejected";
    }
    return *std::move(first_drop);
  }
  return SendResult::Ok(last_status);
}

SendResult HttpShipper::PostBody(std::string_view body) noexcept {
  try {
    http::HttpRequest request;
    request.url = endpoint_;
    request.body = body;
    return ClassifyHttpResult(client_->Perform(request), std::chrono::system_clock::now());
  } catch (const std::exception& e) {
    return SendResult{SendResult::Kind::kRetry, 0, std::nullopt,
                      std::string("internal error: ") + e.what()};
  }
}

SendResult HttpShipper::SendRange(const SampleRange& range) noexcept {
  try {
    return SendChunks(range);
  } catch (const std::exception& e) {
    return SendResult{SendResult::Kind::kRetry, 0, std::nullopt,
                      std::string("internal error: ") + e.what()};
  }
}

}  // namespace metricsd
