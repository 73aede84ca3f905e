// ShippedBatch: encodes samples once for every shipper's queue, adding the labels every
// shipped sample carries:
//   - instance="<instance>", so that two hosts never write the same series. A sample that
//     has its own instance (a scraped application's) keeps it as exported_instance, as
//     Prometheus does when a target label collides with a scraped one;
//   - the global labels, where the sample has no label of that name (its own wins).
// /metrics is served without them: a scraper adds its own target labels.
//
// Then each shipper's write_relabel_configs (Prometheus semantics, after the labels above, as
// Prometheus applies them after its external labels): shippers with the same rules (most
// often none) share one encoding; each distinct rule list gets its own.
//
// Not thread-safe: one per collecting thread. Label views passed to Add are used during the
// call only.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/scrape_source.h"
#include "core/metric.h"
#include "queue/batch_codec.h"
#include "queue/shipper_queue.h"
#include "relabel/relabel.h"

namespace metricsd {

class ShippedBatch final : public ScrapeSampleSink {
 public:
  // `instance` empty: no instance label. `global` need not be sorted. `write_relabel` has one
  // program per shipper, in shipper order (empty: one output that every shipper takes).
  ShippedBatch(std::string instance, Labels global, std::vector<RelabelProgram> write_relabel = {});

  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override;
  void AddFamilies(const std::vector<MetricFamily>& families);
  void Mark() override;
  void Rollback() override;

  // What was added since the last call, encoded, once per distinct rule list: `ship` gets each
  // encoding with the indexes of the shippers it is for.
  void Take(const std::function<void(const queue::EncodedBatch&,
                                     std::span<const std::size_t> shippers)>& ship);
  // The same when every shipper shares one encoding (no write_relabel_configs).
  queue::EncodedBatch Take();

  // The labels of one shipped sample, sorted by name, built from the sample's own (sorted)
  // labels. The views stay valid until the next call.
  std::span<const LabelView> Decorate(std::span<const LabelView> own);

 private:
  // One encoding and the shippers it is for.
  struct Output {
    RelabelProgram relabel;  // empty: the samples as decorated
    std::vector<std::size_t> shippers;
    queue::BatchWriter writer;
    queue::BatchWriter::Mark mark;
  };

  const std::string instance_;
  Labels global_;                // sorted by name
  std::vector<Output> outputs_;  // at least one
  RelabelScratch scratch_;
  Labels relabeled_;                         // scratch
  std::vector<LabelView> named_;             // scratch: relabeled_ without __name__
  std::vector<LabelView> own_;               // scratch
  std::vector<LabelView> merged_;            // scratch
  std::vector<std::string> exported_names_;  // "exported_instance", "exported_exported_..."
};

}  // namespace metricsd
