// SeriesTracker: the series one source (the host collectors, one scrape target) produced in
// its last round, so that the series missing from the next round can be given Prometheus'
// staleness marker and end at once in the receiver instead of lingering for the query
// lookback (5 minutes).
//
// A series is known by a 64-bit hash of its name and labels (a collision would cost one
// missing marker, never a wrong sample). A source exposes its series in the same order
// round after round, so each one is first compared with the series that came at the same
// place last round (sequential memory, no lookup); only a series out of that order is
// looked up by hash, and only a new one is copied. A round in which nothing vanished costs
// no more than that.
//
// Not thread-safe: one owner thread at a time (moved between owners on a reload).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/metric.h"

namespace metricsd {

class SeriesTracker {
 public:
  // What a marker needs: the series as last seen. Views valid during the callback only.
  struct Gone {
    std::string_view family;
    MetricType type;
    std::string_view name;
    std::span<const LabelView> labels;
  };

  // The series was produced in the current round.
  void Seen(std::string_view family, MetricType type, std::string_view name,
            std::span<const LabelView> labels);
  void Seen(const MetricFamily& family, const Sample& sample);

  // Ends the round: `gone(const Gone&)` for each series of the previous round not seen in
  // this one, which is then forgotten. Returns how many.
  template <typename Fn>
  std::size_t EndRound(Fn&& gone) {
    std::size_t count = 0;
    if (seen_.size() != entries_.size()) {
      count = Compact([&](const Series& s) { Report(s, gone); });
    }
    order_.swap(seen_);
    StartRound();
    return count;
  }
  // Every series is gone (a failed scrape, a removed target).
  template <typename Fn>
  std::size_t Clear(Fn&& gone) {
    for (const Series& s : data_) {
      Report(s, gone);
    }
    const std::size_t count = data_.size();
    entries_.clear();
    data_.clear();
    index_.clear();
    order_.clear();
    StartRound();
    return count;
  }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint64_t round = 0;    // the last round that saw it
    std::uint32_t seen_at = 0;  // its place in that round's order
  };
  struct Series {
    std::string family;
    MetricType type = MetricType::kGauge;
    std::string name;
    Labels labels;
  };

  // Marks the series with this key seen; true when it is new (the caller fills data_.back()).
  bool Touch(std::uint64_t key);
  // Drops the entries this round did not see, reporting each; returns how many.
  template <typename Fn>
  std::size_t Compact(Fn&& report) {
    std::vector<std::uint32_t> moved_to(entries_.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].round != round_) {
        report(data_[i]);
        index_.erase(entries_[i].key);
        continue;
      }
      moved_to[i] = static_cast<std::uint32_t>(kept);
      if (kept != i) {
        entries_[kept] = entries_[i];
        data_[kept] = std::move(data_[i]);
        index_[entries_[kept].key] = static_cast<std::uint32_t>(kept);
      }
      ++kept;
    }
    const std::size_t gone = entries_.size() - kept;
    entries_.resize(kept);
    data_.resize(kept);
    for (std::uint32_t& i : seen_) {
      i = moved_to[i];
    }
    return gone;
  }
  template <typename Fn>
  void Report(const Series& s, Fn& gone) {
    views_.clear();
    for (const Label& label : s.labels) {
      views_.push_back(LabelView{label.name, label.value});
    }
    gone(Gone{s.family, s.type, s.name, views_});
  }
  void StartRound() {
    seen_.clear();
    cursor_ = 0;
    ++round_;
  }

  std::vector<Entry> entries_;
  std::vector<Series> data_;                                // parallel to entries_
  std::unordered_map<std::uint64_t, std::uint32_t> index_;  // key → place in entries_
  std::vector<std::uint32_t> order_;  // entries in the order the last round saw them
  std::vector<std::uint32_t> seen_;   // entries in the order this round saw them
  std::size_t cursor_ = 0;            // where in order_ the next series is expected
  std::uint64_t round_ = 1;
  std::vector<LabelView> views_;  // scratch for Gone
};

}  // namespace metricsd
