// ReadyRequestWriter: builds a remote write shipper's finished requests while samples are
// collected, so that the queue stores, and the sender posts, exactly the bytes that go on the
// wire: nothing is decoded or encoded again between collection and the receiver.
//
// Samples are appended as protobuf TimeSeries (formats::RemoteWriteEncoder, which makes each
// series valid); a new request starts every max_samples_per_request samples. Finish()
// compresses each request with snappy and hands it over as a queue record
// (record_format.h: kRemoteWriteRecord, then the body).
//
// Not thread-safe: one per producing thread. Label views passed to Add are used during the
// call only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "formats/encode_stats.h"
#include "formats/remote_write_encoder.h"
#include "queue/shipper_queue.h"

namespace metricsd::queue {

class ReadyRequestWriter {
 public:
  // 0: no limit, one request per Finish.
  explicit ReadyRequestWriter(std::size_t max_samples_per_request);

  // The family arguments are not part of the protocol; they keep the BatchWriter's shape.
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms);

  // The series cache's form (ScrapeSampleSink::Prepare): labels encoded once into `out`,
  // then each value appended with them. AddEncoded is Add with the labels EncodeLabels had.
  void EncodeLabels(std::string_view name, std::span<const LabelView> labels, std::string& out);
  void AddEncoded(std::string_view encoded_labels, double value, std::int64_t timestamp_ms);

  std::size_t samples() const noexcept;
  std::size_t max_samples_per_request() const noexcept { return max_samples_; }

  // Hands over every request built since the last call, oldest first, as queue records;
  // the writer is empty afterwards.
  void Finish(const std::function<void(EncodedBatch&&)>& take);

  // As BatchWriter's: takes back what was added after a mark (an invalid scrape).
  struct Mark {
    std::size_t requests = 0;
    std::size_t bytes = 0;
    std::uint32_t open_samples = 0;  // of the last request at the mark
    std::int64_t open_min_timestamp_ms = 0;
  };
  Mark Checkpoint() const noexcept;
  void Rollback(const Mark& mark) noexcept;

  // What the encoder changed to make series valid, since construction.
  const formats::EncodeStats& stats() const noexcept { return stats_; }

 private:
  struct Request {
    std::size_t begin = 0;  // protobuf offset of its first series
    std::uint32_t samples = 0;
    std::int64_t min_timestamp_ms = 0;
  };
  // The request the next sample goes into.
  Request& OpenRequest(std::int64_t timestamp_ms);

  // Buffers above this size are released after Finish (one huge scrape keeps nothing).
  static constexpr std::size_t kKeptBufferBytes = 8U << 20;

  const std::size_t max_samples_;
  formats::RemoteWriteEncoder encoder_;
  formats::EncodeStats stats_;
  std::vector<Request> requests_;  // the last one is open
};

}  // namespace metricsd::queue
