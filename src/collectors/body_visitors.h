// The visitors a scrape body is parsed with (formats/exposition_parser.h), each adding to
// what the one before does:
//   LabellingVisitor  the target's prefix, labels and metric relabeling (TargetLabeler);
//   CheckingVisitor   the scrape limits only (nothing is shipped: the body is kept for
//                     /metrics);
//   StreamingVisitor  limits, the sink (ScrapeSampleSink) and staleness tracking, with the
//                     target's series cache: a series seen before goes straight from its
//                     cached form to the sink;
//   MarkerVisitor     a previous body walked again for the staleness markers of the series
//                     that vanished.
// LimitCheck holds Prometheus' per-scrape limits. Not thread-safe: one scrape at a time.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/scrape_source.h"
#include "collectors/series_cache.h"
#include "config/options.h"
#include "core/metric.h"
#include "core/series_tracker.h"
#include "formats/exposition_parser.h"
#include "formats/target_labels.h"

namespace metricsd {

// Prometheus' per-scrape limits, checked on each sample as it would be stored (prefix and
// target labels applied; the metric name counts as the label __name__). The first limit
// exceeded fails the scrape.
class LimitCheck {
 public:
  explicit LimitCheck(const config::ScrapeLimits& limits) : limits_(limits) {}

  // False once a limit is exceeded; nothing is checked after that.
  bool Admit(std::string_view name, std::span<const LabelView> labels) {
    if (!AdmitKnown()) {
      return false;
    }
    constexpr std::string_view kName = "__name__";
    if (limits_.label_limit != 0 && labels.size() + 1 > limits_.label_limit) {
      return Exceed("label_limit", fmt::format("metric {:.50}: {} labels, limit {}", name,
                                               labels.size() + 1, limits_.label_limit));
    }
    const std::size_t name_limit = limits_.label_name_length_limit;
    const std::size_t value_limit = limits_.label_value_length_limit;
    if (name_limit != 0 && kName.size() > name_limit) {
      return Exceed("label_name_length_limit",
                    fmt::format("label name __name__ is longer than {} bytes", name_limit));
    }
    if (value_limit != 0 && name.size() > value_limit) {
      return Exceed(
          "label_value_length_limit",
          fmt::format("metric {:.50}: name of {} bytes, limit {}", name, name.size(), value_limit));
    }
    for (const LabelView& label : labels) {
      if (name_limit != 0 && label.name.size() > name_limit) {
        return Exceed("label_name_length_limit",
                      fmt::format("metric {:.50}: label name {:.50} of {} bytes, limit {}", name,
                                  label.name, label.name.size(), name_limit));
      }
      if (value_limit != 0 && label.value.size() > value_limit) {
        return Exceed("label_value_length_limit",
                      fmt::format("metric {:.50}: value of label {:.50} of {} bytes, limit {}",
                                  name, label.name, label.value.size(), value_limit));
      }
    }
    return true;
  }
  // A series admitted before (the series cache's): only the sample count can exceed now.
  bool AdmitKnown() {
    if (exceeded_ != nullptr) {
      return false;
    }
    if (limits_.sample_limit != 0 && ++samples_ > limits_.sample_limit) {
      return Exceed("sample_limit", fmt::format("more than {} samples", limits_.sample_limit));
    }
    return true;
  }

  // The limit's key (e.g. "sample_limit"), or null while none was exceeded.
  const char* exceeded() const noexcept { return exceeded_; }
  std::string error() const { return std::string(exceeded_) + " exceeded: " + detail_; }

 private:
  bool Exceed(const char* limit, std::string detail) {
    exceeded_ = limit;
    detail_ = std::move(detail);
    return false;
  }

  const config::ScrapeLimits& limits_;
  std::size_t samples_ = 0;
  const char* exceeded_ = nullptr;
  std::string detail_;
};

// A staleness marker for the series if its key is in `gone` (sorted) and not marked yet.
void MarkIfGone(const std::vector<std::uint64_t>& gone, std::vector<bool>& marked,
                std::string_view family, MetricType type, std::string_view name,
                std::span<const LabelView> labels, ScrapeSampleSink& sink, std::int64_t wall_ms);

// Applies the target's prefix and labels to each sample of a body.
class LabellingVisitor : public SampleVisitor {
 public:
  LabellingVisitor(TargetLabeler& labeler, std::string_view prefix)
      : labeler_(labeler), prefix_(prefix) {}

  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view series) final {
    if (OnKnownSeries(family, series, value, timestamp_ms)) {
      return;
    }
    switch (labeler_.Apply(name, labels)) {
      case RelabelVerdict::kKeep:
        break;
      case RelabelVerdict::kDropped:
        OnDropped(series);
        return;
      case RelabelVerdict::kNoName:
        unnamed_ = true;  // the scrape fails, as in Prometheus
        return;
    }
    OnLabelled(FamilyName(family), family, labeler_.name(), labeler_.labels(), value, timestamp_ms,
               series);
  }

 public:
  // A metric relabeling rule removed the name of a sample: the scrape must fail.
  bool unnamed() const noexcept { return unnamed_; }

 protected:
  // The family's name as shipped (with the target's prefix).
  std::string_view FamilyName(const FamilyView& family) {
    if (prefix_.empty()) {
      return family.name;
    }
    if (family.name.data() != last_family_.data() || family.name.size() != last_family_.size()) {
      last_family_ = family.name;
      family_buffer_.assign(prefix_);
      family_buffer_.append(family.name);
    }
    return family_buffer_;
  }
  // A series the visitor knows already (its series cache) is handled here: true when done.
  virtual bool OnKnownSeries(const FamilyView& /*family*/, std::string_view /*series*/,
                             double /*value*/, std::int64_t /*timestamp_ms*/) {
    return false;
  }
  // Metric relabeling dropped the series.
  virtual void OnDropped(std::string_view /*series*/) {}
  virtual void OnLabelled(std::string_view family_name, const FamilyView& family,
                          std::string_view name, std::span<const LabelView> labels, double value,
                          std::int64_t timestamp_ms, std::string_view series) = 0;

 private:
  TargetLabeler& labeler_;
  std::string_view prefix_;
  std::string_view last_family_;  // the family whose prefixed name is in family_buffer_
  std::string family_buffer_;
  bool unnamed_ = false;
};

// Checks the limits only: what a body would store when nothing is shipped.
class CheckingVisitor final : public LabellingVisitor {
 public:
  CheckingVisitor(TargetLabeler& labeler, std::string_view prefix, LimitCheck& limits)
      : LabellingVisitor(labeler, prefix), limits_(limits) {}

 private:
  void OnLabelled(std::string_view, const FamilyView&, std::string_view name,
                  std::span<const LabelView> labels, double, std::int64_t,
                  std::string_view) override {
    (void)limits_.Admit(name, labels);
  }

  LimitCheck& limits_;
};

// Hands each labelled sample to the sink and, for staleness, notes its series. A series seen
// in an earlier scrape comes from the series cache: its verdict, staleness key and shipped
// form are kept, and only the value is added.
class StreamingVisitor final : public LabellingVisitor {
 public:
  StreamingVisitor(TargetLabeler& labeler, std::string_view prefix, LimitCheck& limits,
                   ScrapeSampleSink& sink, SeriesTracker& series, SeriesCache& cache,
                   std::int64_t scrape_ms)
      : LabellingVisitor(labeler, prefix),
        limits_(limits),
        sink_(sink),
        series_(series),
        cache_(cache),
        scrape_ms_(scrape_ms) {}

 private:
  bool OnKnownSeries(const FamilyView& family, std::string_view series, double value,
                     std::int64_t timestamp_ms) override {
    SeriesCache::Entry* entry = cache_.Find(series);
    if (entry == nullptr) {
      return false;
    }
    if (entry->dropped || !limits_.AdmitKnown()) {
      return true;
    }
    sink_.AddPrepared(entry->prepared(), FamilyName(family), family.help, family.type, value,
                      timestamp_ms);
    Seen(entry->series_key, timestamp_ms);
    return true;
  }

  void OnDropped(std::string_view series) override {
    if (SeriesCache::Entry* entry = cache_.Insert(series, {})) {
      entry->dropped = true;
    }
  }

  void OnLabelled(std::string_view family_name, const FamilyView& family, std::string_view name,
                  std::span<const LabelView> labels, double value, std::int64_t timestamp_ms,
                  std::string_view series) override {
    if (!limits_.Admit(name, labels)) {
      return;  // the scrape fails; what was added is taken back
    }
    const std::uint64_t key = SeriesTracker::Key(name, labels);
    // A series enters the cache on its second scrape in a row: a target whose series change
    // every scrape (a hostile one, or a timestamp in a label) fills nothing.
    const bool repeated = Seen(key, timestamp_ms);
    SeriesCache::Entry* entry = nullptr;
    prepared_.clear();
    if (repeated && !cache_.full() && sink_.Prepare(name, labels, prepared_)) {
      entry = cache_.Insert(series, prepared_);
    }
    if (entry == nullptr) {  // new, the sink has no prepared form, or the cache is full
      sink_.Add(family_name, family.help, family.type, name, labels, value, timestamp_ms);
    } else {
      entry->series_key = key;
      sink_.AddPrepared(entry->prepared(), family_name, family.help, family.type, value,
                        timestamp_ms);
    }
  }

  // Notes the series for staleness; true when the last scrape had it too. As Prometheus
  // does, a sample with a timestamp of its own never gets a staleness marker (and is not
  // cached).
  bool Seen(std::uint64_t key, std::int64_t timestamp_ms) {
    if (timestamp_ms == scrape_ms_) {
      return !series_.Seen(key);
    }
    return false;
  }

  LimitCheck& limits_;
  ScrapeSampleSink& sink_;
  SeriesTracker& series_;
  SeriesCache& cache_;
  std::int64_t scrape_ms_;
  std::string prepared_;  // scratch: a series' prepared form before it enters the cache
};

// Walks a previous body and sends a staleness marker for each series whose key is in
// `gone` (sorted), once.
class MarkerVisitor final : public LabellingVisitor {
 public:
  MarkerVisitor(TargetLabeler& labeler, std::string_view prefix,
                const std::vector<std::uint64_t>& gone, std::vector<bool>& marked,
                ScrapeSampleSink& sink, std::int64_t wall_ms)
      : LabellingVisitor(labeler, prefix),
        gone_(gone),
        marked_(marked),
        sink_(sink),
        wall_ms_(wall_ms) {}

 private:
  void OnLabelled(std::string_view family_name, const FamilyView& family, std::string_view name,
                  std::span<const LabelView> labels, double, std::int64_t,
                  std::string_view) override {
    MarkIfGone(gone_, marked_, family_name, family.type, name, labels, sink_, wall_ms_);
  }

  const std::vector<std::uint64_t>& gone_;
  std::vector<bool>& marked_;
  ScrapeSampleSink& sink_;
  std::int64_t wall_ms_;
};

}  // namespace metricsd
