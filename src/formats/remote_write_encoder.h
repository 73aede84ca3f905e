// Prometheus remote write 1.0 encoder: a hand-written protobuf WriteRequest (one TimeSeries
// per sample) compressed with the snappy *block* format.
//
// Every series is made valid on the way out: labels are __name__ plus the sample's labels,
// sorted by name (byte order), names unique (the last one wins, __name__ always comes from
// the sample name), invalid names sanitised, empty values dropped; each change is counted
// in EncodeStats. The timestamp is the sample's own collection time (ms). NaN values other
// than the staleness marker are normalised so they never alias it.
//
// The encoder keeps its buffers between calls so steady-state encoding does not allocate.
// Not thread-safe: one encoder per sender thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_buffer.h"
#include "core/metric.h"
#include "core/sample_views.h"
#include "formats/encode_stats.h"

namespace metricsd::formats {

// The staleness marker (core/metric.h); only ever sent when a sample carries exactly it.
using metricsd::kStaleNaNBits;
// What every other NaN becomes (Prometheus' "normal" NaN).
inline constexpr std::uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

// The offsets, relative to `run`, of the 8 value bytes of each TimeSeries in a run of them as
// RemoteWriteEncoder writes them (one sample each).
void FindValueOffsets(std::string_view run, std::vector<std::uint32_t>& out);
// The first TimeSeries of such a run up to its sample: what identifies the series.
std::string_view FirstSeriesLabels(std::string_view run) noexcept;

class RemoteWriteEncoder {
 public:
  // Encodes `samples` as one WriteRequest; `out` receives the snappy-compressed body
  // (replaced). Stats are added to `stats`.
  void Encode(const SampleRange& samples, std::string& out, EncodeStats& stats);

  // The uncompressed protobuf of the last Encode() (valid until the next call).
  std::string_view last_protobuf() const noexcept { return proto_.view(); }

  // Building a request a sample at a time (queue/ready_request_writer.h). TimeSeries are
  // appended to one protobuf buffer; any run of them between two built_bytes() marks is a
  // valid WriteRequest of its own (a repeated field concatenates). The views passed to Append
  // are used during the call only.
  void Append(std::string_view name, std::span<const LabelView> labels, double value,
              std::int64_t timestamp_ms, EncodeStats& stats);
  std::size_t built_bytes() const noexcept { return proto_.size(); }
  // Appends protobuf bytes taken from built() before (a request reopened after a rollback).
  void AppendBuilt(std::string_view bytes) { proto_.Append(bytes); }
  // Takes back everything appended after the first `bytes` bytes; 0 starts afresh.
  void Truncate(std::size_t bytes) noexcept { proto_.Truncate(bytes); }
  // Frees the reused buffers that grew past `bytes` (after one very large request).
  void ReleaseBuffersAbove(std::size_t bytes) noexcept {
    for (ByteBuffer* buffer : {&proto_, &compressed_}) {
      if (buffer->capacity() > bytes) {
        buffer->Release();
      }
    }
  }
  // A series' labels (with __name__, sorted, made valid as Append does) as the protobuf Label
  // fields of its TimeSeries, appended to `out`: encoded once, appended with each new value
  // by AppendEncoded.
  void EncodeLabels(std::string_view name, std::span<const LabelView> labels, std::string& out,
                    EncodeStats& stats);
  // Appends one TimeSeries from labels encoded by EncodeLabels.
  void AppendEncoded(std::string_view encoded_labels, double value, std::int64_t timestamp_ms,
                     EncodeStats& stats);

 private:
  // Fills labels_ with the final, sorted label set of a sample (including __name__).
  void BuildLabels(std::string_view name, std::span<const LabelView> in, EncodeStats& stats);
  void AppendSeries(std::string_view name, std::span<const LabelView> labels, double value,
                    std::int64_t timestamp_ms, EncodeStats& stats);
  // `out` becomes the snappy block of the whole protobuf.
  void Compress(std::string& out);
  // Protobuf size of labels_ as Label fields, and writing them (kSlack bytes of room past them).
  std::size_t LabelsSize() const noexcept;
  char* PutLabels(char* p) const noexcept;
  // The checked-names memory below is only valid within one Encode call.
  void ForgetCheckedNames() noexcept {
    valid_name_ = {};
    valid_label_names_.clear();
  }

  ByteBuffer proto_;                                 // reused protobuf buffer
  ByteBuffer compressed_;                            // reused snappy output
  std::vector<LabelView> labels_;                    // reused per series
  std::vector<Label> scratch_;                       // owns rewritten labels on the slow path
  std::vector<std::size_t> order_;                   // slow path: sort permutation
  std::string name_scratch_;                         // a sanitised metric name
  std::string_view valid_name_;                      // the last metric name found valid (this call)
  std::vector<std::string_view> valid_label_names_;  // label names of the last clean sample
};

}  // namespace metricsd::formats
