// ReadyRequestWriter: builds a remote write shipper's finished requests while samples are
// collected, so that the queue stores, and the sender posts, exactly the bytes that go on the
// wire: nothing is decoded or encoded again between collection and the receiver.
//
// Samples are appended as protobuf TimeSeries (formats::RemoteWriteEncoder, which makes each
// series valid). A request is closed, compressed with snappy and kept as a queue record
// (record_format.h: kRemoteWriteRecord, then the body) as soon as it holds
// max_samples_per_request samples, so memory holds one open request's protobuf and the
// compressed rest, never a whole scrape's protobuf. It closes before the run being added (a
// target's samples since the last Checkpoint) when that run began after the request did: the
// run moves whole into the next request. Finish() hands the records over.
// Compression reuses the last cycle's snappy skeletons (formats/snappy_skeleton.h) per run of
// series between two checkpoints (one scrape target's), so an unchanged target's requests
// are rebuilt, not compressed again.
//
// Not thread-safe: one per producing thread. Label views passed to Add are used during the
// call only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "formats/encode_stats.h"
#include "formats/remote_write_encoder.h"
#include "formats/snappy_skeleton.h"
#include "queue/shipper_queue.h"

namespace metricsd::queue {

class ReadyRequestWriter {
 public:
  // 0: no limit, one request per Finish. reuse_compression false: snappy compresses every
  // request whole (the smallest requests, at more CPU).
  explicit ReadyRequestWriter(std::size_t max_samples_per_request, bool reuse_compression = true);

  // The family arguments are not part of the protocol; they keep the BatchWriter's shape.
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms);

  // The series cache's form (ScrapeSampleSink::Prepare): labels encoded once into `out`,
  // then each value appended with them. AddEncoded is Add with the labels EncodeLabels had.
  void EncodeLabels(std::string_view name, std::span<const LabelView> labels, std::string& out);
  void AddEncoded(std::string_view encoded_labels, double value, std::int64_t timestamp_ms);

  std::size_t samples() const noexcept;

  // Every request built since the last call, oldest first, as queue records; the writer is
  // empty afterwards.
  std::vector<EncodedBatch> Finish();

  // As BatchWriter's: takes back what was added after the latest mark (an invalid scrape),
  // with no Finish in between.
  struct Mark {
    std::size_t finished = 0;  // closed requests at the mark
    std::size_t bytes = 0;     // of the open request's protobuf
    std::uint32_t samples = 0;
    std::int64_t min_timestamp_ms = 0;
    bool operator==(const Mark&) const = default;
  };
  Mark Checkpoint();
  void Rollback(const Mark& mark);

  // The compression skeletons kept from the last cycle, and how often they were reused.
  const formats::SnappySkeletonCache& skeletons() const noexcept { return skeletons_; }

  // What the encoder changed to make series valid, since construction (less what a rollback
  // took back).
  const formats::EncodeStats& stats() const noexcept { return stats_; }

 private:
  // Makes room for one more sample: closes the open request when it is full.
  void BeforeSample(std::int64_t timestamp_ms);
  // Compresses the open request into finished_.
  void CloseOpen();
  // Closes the open request where the current run started and carries the run into the next
  // one, so that a run is not cut where the request happens to fill up.
  void CloseBeforeRun();

  // Buffers above this size are released after Finish (one huge request keeps nothing).
  static constexpr std::size_t kKeptBufferBytes = 8U << 20;

  const std::size_t max_samples_;
  formats::RemoteWriteEncoder encoder_;  // holds the open request's protobuf
  formats::EncodeStats stats_;
  formats::EncodeStats stats_at_mark_;
  std::uint32_t open_samples_ = 0;
  std::int64_t open_min_timestamp_ms_ = 0;
  std::vector<EncodedBatch> finished_;
  // The latest mark and, once the request it points into was closed, that request's protobuf
  // up to the mark: what a rollback reopens.
  std::optional<Mark> mark_;
  std::optional<std::string> mark_prefix_;
  // Compression: the open request's runs (where each Checkpoint found it), and the skeletons
  // that rebuild a run's snappy elements when only its values changed.
  std::vector<std::size_t> run_starts_;
  // Where the current run (since the latest Checkpoint) starts in the open request, what came
  // before it, and its oldest timestamp. samples_before 0: nothing to close before it.
  struct RunStart {
    std::size_t bytes = 0;
    std::uint32_t samples_before = 0;
    std::int64_t min_timestamp_before_ms = 0;
  };
  RunStart run_;
  std::int64_t run_min_timestamp_ms_ = 0;
  std::string run_tail_;  // scratch: the run carried into the next request
  formats::SnappySkeletonCache skeletons_;
  ByteBuffer compressed_;
};

}  // namespace metricsd::queue
