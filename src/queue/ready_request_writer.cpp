#include "queue/ready_request_writer.h"

#include <algorithm>
#include <utility>

#include "core/varint.h"
#include "queue/record_format.h"

namespace metricsd::queue {

ReadyRequestWriter::ReadyRequestWriter(std::size_t max_samples_per_request, bool reuse_compression)
    : max_samples_(max_samples_per_request == 0 ? SIZE_MAX : max_samples_per_request),
      skeletons_(reuse_compression) {}

void ReadyRequestWriter::BeforeSample(std::int64_t timestamp_ms) {
  if (open_samples_ >= max_samples_) {
    // A run (one target's samples) that does not fit goes whole into the next request, so
    // that its compression skeleton fits again next cycle whatever order the targets finish
    // in. A run longer than a request is cut every max_samples_ from its start.
    if (run_.samples_before > 0) {
      CloseBeforeRun();
    } else {
      CloseOpen();
    }
  }
  const bool run_empty = open_samples_ == run_.samples_before;
  run_min_timestamp_ms_ = run_empty ? timestamp_ms : std::min(run_min_timestamp_ms_, timestamp_ms);
  open_min_timestamp_ms_ =
      open_samples_ == 0 ? timestamp_ms : std::min(open_min_timestamp_ms_, timestamp_ms);
}

void ReadyRequestWriter::CloseBeforeRun() {
  run_tail_.assign(encoder_.last_protobuf().substr(run_.bytes));
  const std::uint32_t run_samples = open_samples_ - run_.samples_before;
  encoder_.Truncate(run_.bytes);
  open_samples_ = run_.samples_before;
  open_min_timestamp_ms_ = run_.min_timestamp_before_ms;
  CloseOpen();
  encoder_.AppendBuilt(run_tail_);
  open_samples_ = run_samples;
  open_min_timestamp_ms_ = run_min_timestamp_ms_;
}

void ReadyRequestWriter::Add(std::string_view /*family*/, std::string_view /*help*/,
                             MetricType /*type*/, std::string_view name,
                             std::span<const LabelView> labels, double value,
                             std::int64_t timestamp_ms) {
  BeforeSample(timestamp_ms);
  encoder_.Append(name, labels, value, timestamp_ms, stats_);
  ++open_samples_;
}

void ReadyRequestWriter::EncodeLabels(std::string_view name, std::span<const LabelView> labels,
                                      std::string& out) {
  encoder_.EncodeLabels(name, labels, out, stats_);
}

void ReadyRequestWriter::AddEncoded(std::string_view encoded_labels, double value,
                                    std::int64_t timestamp_ms) {
  BeforeSample(timestamp_ms);
  encoder_.AppendEncoded(encoded_labels, value, timestamp_ms, stats_);
  ++open_samples_;
}

std::size_t ReadyRequestWriter::samples() const noexcept {
  std::size_t total = open_samples_;
  for (const EncodedBatch& record : finished_) {
    total += record.samples;
  }
  return total;
}

void ReadyRequestWriter::CloseOpen() {
  if (open_samples_ == 0) {
    return;
  }
  if (mark_ && mark_->finished == finished_.size() && !mark_prefix_) {
    mark_prefix_.emplace(encoder_.last_protobuf().substr(0, mark_->bytes));
  }
  const std::string_view proto = encoder_.last_protobuf();
  compressed_.clear();
  compressed_.Commit(PutVarint(compressed_.Reserve(10), proto.size()));
  // Each target's run of series is kept apart: its skeleton fits again when the targets
  // finish in another order. Without skeletons the request is compressed whole.
  if (!skeletons_.keeps_skeletons()) {
    run_starts_.clear();
  }
  std::size_t from = 0;
  run_starts_.push_back(proto.size());
  for (std::size_t to : run_starts_) {
    if (to > from) {
      skeletons_.AppendElements(proto.substr(from, to - from), compressed_);
      from = to;
    }
  }
  run_starts_.clear();

  EncodedBatch record;
  record.samples = open_samples_;
  record.min_timestamp_ms = open_min_timestamp_ms_;
  record.payload.reserve(1 + compressed_.size());
  record.payload.push_back(kRemoteWriteRecord);
  record.payload.append(compressed_.view());
  finished_.push_back(std::move(record));
  encoder_.Truncate(0);
  open_samples_ = 0;
  run_ = RunStart{};  // what is carried on starts the next request
}

std::vector<EncodedBatch> ReadyRequestWriter::Finish() {
  CloseOpen();
  std::vector<EncodedBatch> records = std::move(finished_);
  finished_.clear();
  mark_.reset();
  mark_prefix_.reset();
  encoder_.ReleaseBuffersAbove(kKeptBufferBytes);
  if (compressed_.capacity() > kKeptBufferBytes) {
    compressed_.Release();
  }
  skeletons_.EndCycle();
  return records;
}

ReadyRequestWriter::Mark ReadyRequestWriter::Checkpoint() {
  mark_ = Mark{finished_.size(), encoder_.built_bytes(), open_samples_, open_min_timestamp_ms_};
  stats_at_mark_ = stats_;
  mark_prefix_.reset();
  if (mark_->bytes > 0 && (run_starts_.empty() || run_starts_.back() < mark_->bytes)) {
    run_starts_.push_back(mark_->bytes);
  }
  run_ = RunStart{mark_->bytes, open_samples_, open_min_timestamp_ms_};
  return *mark_;
}

void ReadyRequestWriter::Rollback(const Mark& mark) {
  finished_.resize(std::min(finished_.size(), mark.finished));
  if (mark_ == mark && mark_prefix_) {  // the marked request was closed since: reopen it
    encoder_.Truncate(0);
    encoder_.AppendBuilt(*mark_prefix_);
    mark_prefix_.reset();
    run_starts_.clear();  // only a hint: the reopened request is one run
  } else {
    encoder_.Truncate(mark.bytes);
    std::erase_if(run_starts_, [&](std::size_t start) { return start > mark.bytes; });
  }
  open_samples_ = mark.samples;
  open_min_timestamp_ms_ = mark.min_timestamp_ms;
  run_ = RunStart{};  // until the next Checkpoint, requests fill up as they come
  if (mark_ == mark) {
    stats_ = stats_at_mark_;  // what was taken back was not shipped, nor its changes
  }
}

}  // namespace metricsd::queue
