// CollectorRunner: runs a fixed list of collectors once per tick, in order, on the
// caller's thread, and keeps each one's health. A collector that throws or fails
// cannot stop the others; one that reports kNotApplicable is not called again (said
// once at info level); transient failures are logged once per change of state.
// RunOnce() is called from one thread at a time; Health() and AppendSelfMetrics() may
// be called concurrently from the server's threads.
//
// A cycle can be written into the storage of an earlier one (Output): each collector gets
// back the families it wrote there and may overwrite them in place (Collector::CollectInto),
// so a steady cycle allocates next to nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace metricsd {

struct CollectorHealth {
  std::string name;
  std::string state;  // "ok", "failing", "not_applicable", "pending"
  double last_duration_seconds = 0;
  std::int64_t last_success_ms = 0;
  std::uint64_t failures_total = 0;
  std::string last_error;
};

class CollectorRunner {
 public:
  // One cycle's families, with what a later cycle needs to reuse their storage.
  struct Output {
    std::vector<MetricFamily> families;  // every collector's, in collector order
    std::vector<std::size_t> counts;     // how many of them each collector wrote
  };

  explicit CollectorRunner(std::vector<std::unique_ptr<Collector>> collectors);

  std::vector<MetricFamily> RunOnce(const CollectContext& ctx);
  // Replaces `output` with this cycle's families, reusing its storage. `output` must be empty
  // or an earlier RunOnce() output of this runner that nobody else reads any more.
  void RunOnce(const CollectContext& ctx, Output& output);

  std::vector<CollectorHealth> Health() const;
  void AppendSelfMetrics(std::int64_t wall_ms, std::vector<MetricFamily>& out) const;
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::unique_ptr<Collector> collector;
    bool disabled = false;
    bool failing = false;
    CollectResult result;  // this tick's; its vector's capacity is kept between ticks
  };
  std::vector<Entry> entries_;  // touched by RunOnce's thread only
  mutable std::mutex mutex_;
  std::vector<CollectorHealth> health_;  // guarded by mutex_
};

}  // namespace metricsd
