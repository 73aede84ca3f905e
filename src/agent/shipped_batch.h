// ShippedBatch: encodes samples once for every shipper's queue, adding the labels every
// shipped sample carries:
//   - instance="<instance>", so that two hosts never write the same series. A sample that
//     has its own instance (a scraped application's) keeps it as exported_instance, as
//     Prometheus does when a target label collides with a scraped one;
//   - the global labels, where the sample has no label of that name (its own wins).
// /metrics is served without them: a scraper adds its own target labels.
//
// Not thread-safe: one per collecting thread. Label views passed to Add are used during the
// call only.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/scrape_source.h"
#include "core/metric.h"
#include "queue/batch_codec.h"
#include "queue/shipper_queue.h"

namespace metricsd {

class ShippedBatch final : public ScrapeSampleSink {
 public:
  // `instance` empty: no instance label. `global` need not be sorted.
  ShippedBatch(std::string instance, Labels global);

  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override;
  void AddFamilies(const std::vector<MetricFamily>& families);
  void Mark() override { mark_ = writer_.Checkpoint(); }
  void Rollback() override { writer_.Rollback(mark_); }

  // What was added since the last call, encoded.
  queue::EncodedBatch Take();

  // The labels of one shipped sample, sorted by name, built from the sample's own (sorted)
  // labels. The views stay valid until the next call.
  std::span<const LabelView> Decorate(std::span<const LabelView> own);

 private:
  const std::string instance_;
  Labels global_;  // sorted by name
  queue::BatchWriter writer_;
  queue::BatchWriter::Mark mark_;
  std::vector<LabelView> own_;               // scratch
  std::vector<LabelView> merged_;            // scratch
  std::vector<std::string> exported_names_;  // "exported_instance", "exported_exported_..."
};

}  // namespace metricsd
