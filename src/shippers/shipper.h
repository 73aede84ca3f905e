// Shipper: encodes one range of samples for one receiver and sends it, once. It never retries and
// never sleeps: the send loop (src/queue) owns retries, backoff, splitting and the
// on-disk buffer, using the verdict returned here.
//
// SendRange() is called from that shipper's own sender thread only (never concurrently) and
// must not throw. It must return within the configured timeout.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "core/sample_views.h"
#include "formats/encode_stats.h"

namespace metricsd {

// A batch is a list of families; each sample carries its own timestamp (collection time).
using Batch = std::vector<MetricFamily>;

struct SendResult {
  enum class Kind {
    kOk,        // delivered (2xx)
    kRetry,     // network error, 5xx, 429: try again later
    kDrop,      // 4xx other than 429 (and 413, see kTooLarge): retrying cannot help
    kTooLarge,  // 413: split the batch and send the halves
  };
  Kind kind = Kind::kOk;
  int http_status = 0;                                   // 0 when no HTTP response was received
  std::optional<std::chrono::milliseconds> retry_after;  // from a Retry-After header
  std::string reason;  // short cause for logs and the dropped{reason} counter; no secrets

  static SendResult Ok(int status = 200) { return {Kind::kOk, status, std::nullopt, {}}; }
};

class Shipper {
 public:
  virtual ~Shipper() = default;
  virtual std::string_view name() const = 0;  // the configured shipper name
  // What the queue calls: the samples are views into the queue's records.
  virtual SendResult SendRange(const SampleRange& range) noexcept = 0;

  // Remote write only: the queue holds finished request bodies (queue/ready_request_writer.h)
  // for shippers that say so here, and SendReady posts one as it is.
  virtual bool SendsReadyRequests() const noexcept { return false; }
  virtual SendResult SendReady(std::string_view /*body*/, std::size_t /*samples*/) noexcept {
    return SendResult{SendResult::Kind::kDrop, 0, std::nullopt,
                      "this shipper does not send finished remote write requests"};
  }

  // What the encoder changed or left out in the requests sent since the last call (shippers
  // that encode at send time; remote write requests were encoded when they were made). Called
  // from the sender thread, after each send.
  virtual formats::EncodeStats TakeEncodeStats() noexcept { return {}; }

  // Sends owned families (tests, one-off sends) through the same path as the queue's views.
  SendResult Send(const Batch& batch) noexcept {
    SampleViews views;
    try {
      views = ViewsOf(batch);
    } catch (const std::exception& e) {
      return SendResult{SendResult::Kind::kRetry, 0, std::nullopt,
                        std::string("internal error: ") + e.what()};
    }
    return SendRange(AllSamples(views));
  }
};

}  // namespace metricsd
