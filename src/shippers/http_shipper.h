// HttpShipper: what the three HTTP shippers share. It cuts a range of samples into
// requests of at most max_samples_per_request samples, encodes each (subclass), POSTs it
// with the shipper's HttpClient and maps the outcome to a verdict:
//
//   2xx -> kOk; 429, 5xx, no response (DNS, connect, TLS, timeout) -> kRetry (with
//   Retry-After); 413 -> kTooLarge; any other status -> kDrop, with the status and the first
//   bytes of the body (printable ASCII, bounded) in the reason.
//
// A batch bigger than max_samples_per_request should be cut by the caller (the queue knows
// the limit from the same options). When it is not, the requests go out in order and:
//   - kRetry/kTooLarge stop the send at once and are returned; the requests before were
//     delivered, so a retry resends them. Remote-write and Influx receivers treat an
//     identical sample at the same timestamp as a no-op, so this is safe for them.
//   - kDrop does not stop the send (the other requests may be fine); the first drop is
//     returned after all requests were tried, its reason saying how many were rejected.
//
// SendRange() and TakeEncodeStats() are called from one sender thread.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/options.h"
#include "core/result.h"
#include "formats/encode_stats.h"
#include "http/http_client.h"
#include "shippers/shipper.h"

namespace metricsd {

// The verdict for one HTTP exchange (see the header comment). `now` anchors HTTP-date
// Retry-After values.
SendResult ClassifyHttpResult(const Result<http::HttpResponse>& result,
                              std::chrono::system_clock::time_point now);

class HttpShipper : public Shipper {
 public:
  std::string_view name() const override { return name_; }
  SendResult SendRange(const SampleRange& range) noexcept override;

  formats::EncodeStats TakeEncodeStats() noexcept override { return std::exchange(stats_, {}); }
  // The client (e.g. to read the negotiated TLS parameters).
  const http::HttpClient& client() const noexcept { return *client_; }

 protected:
  HttpShipper(const config::ShipperOptions& options, std::unique_ptr<http::HttpClient> client);

  // Posts a finished body as it is, with the verdict as for an encoded one.
  SendResult PostBody(std::string_view body) noexcept;

  // Replaces `body` with the request body for `samples`.
  virtual void EncodeRequest(const SampleRange& samples, std::string& body,
                             formats::EncodeStats& stats) = 0;

 private:
  // Cuts `range` into requests, encodes and sends each and combines the verdicts (see the
  // header comment).
  SendResult SendChunks(const SampleRange& range);

  std::string name_;
  std::string endpoint_;
  std::size_t max_samples_per_request_;
  std::unique_ptr<http::HttpClient> client_;
  std::string body_;            // reused
  formats::EncodeStats stats_;  // since the last TakeEncodeStats
};

}  // namespace metricsd
