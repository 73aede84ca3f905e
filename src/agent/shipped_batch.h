// ShippedBatch: encodes samples once for every shipper's queue, adding the labels every
// shipped sample carries:
//   - instance="<instance>", so that two hosts never write the same series. A sample that
//     has its own instance (a scraped application's) keeps it as exported_instance, as
//     Prometheus does when a target label collides with a scraped one;
//   - the global labels, where the sample has no label of that name (its own wins).
// /metrics is served without them: a scraper adds its own target labels.
//
// Then each shipper's write_relabel_configs (Prometheus semantics, after the labels above, as
// Prometheus applies them after its external labels). Shippers without rules that take the
// same kind of record share one encoding; each shipper with rules gets its own. Remote write
// shippers take finished requests (queue/ready_request_writer.h), the others the queue's
// batch records.
//
// Not thread-safe: one per collecting thread. Label views passed to Add are used during the
// call only.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "collectors/scrape_source.h"
#include "core/metric.h"
#include "queue/batch_codec.h"
#include "queue/ready_request_writer.h"
#include "queue/shipper_queue.h"
#include "relabel/relabel.h"

namespace metricsd {

// What one shipper's queue takes.
struct ShipperFeed {
  RelabelProgram write_relabel;  // empty: no rules
  // Finished remote write requests of at most this many samples (0: no limit); nullopt: the
  // queue's batch records.
  std::optional<std::size_t> ready_requests;
  bool reuse_compression = true;  // of those requests (config::ShipperOptions)
};

class ShippedBatch final : public ScrapeSampleSink {
 public:
  // `instance` empty: no instance label. `global` need not be sorted. `feeds` has one entry
  // per shipper, in shipper order (empty: one batch-record output that every shipper takes).
  ShippedBatch(std::string instance, Labels global, std::vector<ShipperFeed> feeds = {});

  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override;
  void AddFamilies(const std::vector<MetricFamily>& families);
  void Mark() override;
  void Rollback() override;
  bool Prepare(std::string_view name, std::span<const LabelView> labels, std::string& out) override;
  void AddPrepared(std::string_view prepared, std::string_view family, std::string_view help,
                   MetricType type, double value, std::int64_t timestamp_ms) override;

  // What was added since the last call, as queue records, once per output: `ship` gets each
  // output's records with the indexes of the shippers they are for, and what the encoder
  // changed to make those records' series valid (remote write outputs; the others are
  // encoded by their shippers).
  using ShipFn =
      std::function<void(std::span<const queue::EncodedBatch> records,
                         std::span<const std::size_t> shippers, const formats::EncodeStats& fixes)>;
  void Take(const ShipFn& ship);
  // The first output's batch record, when it takes batch records (no feeds: always).
  queue::EncodedBatch Take();

  // How the remote write outputs' requests were compressed, as of the last Take(). Read from
  // any thread.
  struct Compression {
    std::uint64_t runs_rebuilt = 0;     // from the last cycle's snappy skeleton
    std::uint64_t runs_compressed = 0;  // by snappy
    std::uint64_t skeleton_bytes = 0;   // kept now
  };
  Compression compression() const noexcept {
    return {runs_rebuilt_.load(std::memory_order_relaxed),
            runs_compressed_.load(std::memory_order_relaxed),
            skeleton_bytes_.load(std::memory_order_relaxed)};
  }

  // The labels of one shipped sample, sorted by name, built from the sample's own (sorted)
  // labels. The views stay valid until the next call.
  std::span<const LabelView> Decorate(std::span<const LabelView> own);

 private:
  // One encoding and the shippers it is for.
  using Writer = std::variant<queue::BatchWriter, queue::ReadyRequestWriter>;
  struct Output {
    RelabelProgram relabel;  // empty: the samples as decorated
    std::vector<std::size_t> shippers;
    Writer writer;
    std::variant<queue::BatchWriter::Mark, queue::ReadyRequestWriter::Mark> mark;
    formats::EncodeStats fixes_taken;  // the writer's counts at the last Take
  };
  // Calls fn(output index, name, labels) with the final series of each output that keeps
  // it: decorated, then write-relabeled.
  template <typename Fn>
  void ForEachOutput(std::string_view name, std::span<const LabelView> labels, Fn fn);
  static Writer MakeWriter(const ShipperFeed& feed);
  static void Write(Output& output, std::string_view family, std::string_view help, MetricType type,
                    std::string_view name, std::span<const LabelView> labels, double value,
                    std::int64_t timestamp_ms);

  const std::string instance_;
  Labels global_;                // sorted by name
  std::vector<Output> outputs_;  // at least one
  RelabelScratch scratch_;
  Labels relabeled_;                         // scratch
  std::vector<LabelView> named_;             // scratch: relabeled_ without __name__
  std::vector<LabelView> own_;               // scratch
  std::vector<LabelView> merged_;            // scratch
  std::vector<std::string> exported_names_;  // "exported_instance", "exported_exported_..."
  std::string scratch_encoded_;              // Prepare: one output's label bytes
  std::vector<LabelView> prepared_views_;    // AddPrepared: a batch output's labels
  std::atomic<std::uint64_t> runs_rebuilt_{0};
  std::atomic<std::uint64_t> runs_compressed_{0};
  std::atomic<std::uint64_t> skeleton_bytes_{0};
};

}  // namespace metricsd
