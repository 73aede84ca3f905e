#include "queue/ready_request_writer.h"

#include <algorithm>
#include <utility>

#include "queue/record_format.h"

namespace metricsd::queue {

ReadyRequestWriter::ReadyRequestWriter(std::size_t max_samples_per_request)
    : max_samples_(max_samples_per_request == 0 ? SIZE_MAX : max_samples_per_request) {}

void ReadyRequestWriter::Add(std::string_view /*family*/, std::string_view /*help*/,
                             MetricType /*type*/, std::string_view name,
                             std::span<const LabelView> labels, double value,
                             std::int64_t timestamp_ms) {
  Request& open = OpenRequest(timestamp_ms);
  encoder_.Append(name, labels, value, timestamp_ms, stats_);
  ++open.samples;
}

void ReadyRequestWriter::EncodeLabels(std::string_view name, std::span<const LabelView> labels,
                                      std::string& out) {
  encoder_.EncodeLabels(name, labels, out, stats_);
}

void ReadyRequestWriter::AddEncoded(std::string_view encoded_labels, double value,
                                    std::int64_t timestamp_ms) {
  Request& open = OpenRequest(timestamp_ms);
  encoder_.AppendEncoded(encoded_labels, value, timestamp_ms, stats_);
  ++open.samples;
}

ReadyRequestWriter::Request& ReadyRequestWriter::OpenRequest(std::int64_t timestamp_ms) {
  if (requests_.empty() || requests_.back().samples >= max_samples_) {
    requests_.push_back(Request{encoder_.built_bytes(), 0, timestamp_ms});
  }
  Request& open = requests_.back();
  open.min_timestamp_ms = std::min(open.min_timestamp_ms, timestamp_ms);
  return open;
}

std::size_t ReadyRequestWriter::samples() const noexcept {
  std::size_t total = 0;
  for (const Request& request : requests_) {
    total += request.samples;
  }
  return total;
}

void ReadyRequestWriter::Finish(const std::function<void(EncodedBatch&&)>& take) {
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    const Request& request = requests_[i];
    if (request.samples == 0) {
      continue;
    }
    const std::size_t end =
        i + 1 < requests_.size() ? requests_[i + 1].begin : encoder_.built_bytes();
    EncodedBatch record;
    record.samples = request.samples;
    record.min_timestamp_ms = request.min_timestamp_ms;
    record.payload.push_back(kRemoteWriteRecord);
    encoder_.AppendCompressed(request.begin, end, record.payload);
    take(std::move(record));
  }
  requests_.clear();
  encoder_.Truncate(0);
  encoder_.ReleaseBuffersAbove(kKeptBufferBytes);
}

ReadyRequestWriter::Mark ReadyRequestWriter::Checkpoint() const noexcept {
  Mark mark{requests_.size(), encoder_.built_bytes(), 0, 0};
  if (!requests_.empty()) {
    mark.open_samples = requests_.back().samples;
    mark.open_min_timestamp_ms = requests_.back().min_timestamp_ms;
  }
  return mark;
}

void ReadyRequestWriter::Rollback(const Mark& mark) noexcept {
  requests_.resize(std::min(requests_.size(), mark.requests));
  if (!requests_.empty()) {
    requests_.back().samples = mark.open_samples;
    requests_.back().min_timestamp_ms = mark.open_min_timestamp_ms;
  }
  encoder_.Truncate(mark.bytes);
}

}  // namespace metricsd::queue
