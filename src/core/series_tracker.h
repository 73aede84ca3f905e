// SeriesTracker: which series one source (the host collectors, one scrape target) produced
// in its last round, so that those missing from the next round can be given Prometheus'
// staleness marker and end at once in the receiver instead of lingering for the query
// lookback (5 minutes).
//
// Only a 64-bit key per series is kept (about 70 bytes a series with the index), not its
// labels: whoever reports the vanished series finds their labels again in what the source
// produced last round (a scrape target's kept body, the previous families), which happens
// only when something vanished. A key collision would cost one missing marker, never a wrong
// sample.
//
// A source exposes its series in the same order round after round, so each key is first
// compared with the one at the same place last round (sequential memory, no lookup); only a
// key out of that order is looked up in the index.
//
// Not thread-safe: one owner thread at a time (moved between owners on a reload).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/metric.h"

namespace metricsd {

class SeriesTracker {
 public:
  // The key of a series: its name and labels (as shipped: target labels applied).
  static std::uint64_t Key(std::string_view name, std::span<const LabelView> labels);
  static std::uint64_t Key(const Sample& sample);

  // The series was produced in the current round; true when it is new.
  bool Seen(std::uint64_t key);
  // Ends the round: `gone` gets the keys of the series of the last round that this one did
  // not have, sorted; they are forgotten.
  void EndRound(std::vector<std::uint64_t>& gone);
  // Every series is gone (a failed scrape, a removed target): `gone` gets all keys, sorted.
  void Clear(std::vector<std::uint64_t>& gone);
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint64_t round = 0;    // the last round that saw it
    std::uint32_t seen_at = 0;  // its place in that round's order
  };
  void StartRound();

  std::vector<Entry> entries_;
  std::unordered_map<std::uint64_t, std::uint32_t> index_;  // key → place in entries_
  std::vector<std::uint32_t> order_;  // entries in the order the last round saw them
  std::vector<std::uint32_t> seen_;   // entries in the order this round saw them
  std::size_t cursor_ = 0;            // where in order_ the next series is expected
  std::uint64_t round_ = 1;
};

}  // namespace metricsd
