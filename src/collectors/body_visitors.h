// The visitors a scrape body is parsed with (formats/exposition_parser.h), each adding to
// what the one before does:
//   LabellingVisitor  the target's prefix, labels and metric relabeling (TargetLabeler);
//   CheckingVisitor   the scrape limits only (nothing is shipped: the body is kept for
//                     /metrics);
//   StreamingVisitor  limits, the sink (ScrapeSampleSink) and staleness tracking, with the
//                     target's series cache: a series seen before goes straight from its
//                     cached form to the sink;
//   RenderingVisitor  a kept body rendered as Prometheus text for /metrics;
//   MarkerVisitor     a previous body walked again for the staleness markers of the series
//                     that vanished.
// Not thread-safe: one scrape at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/limit_check.h"
#include "collectors/scrape_source.h"
#include "collectors/series_cache.h"
#include "config/options.h"
#include "core/metric.h"
#include "core/series_tracker.h"
#include "formats/exposition_parser.h"
#include "formats/prometheus_text_writer.h"
#include "formats/target_labels.h"

namespace metricsd {

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
  // The parser skipped the labels because the text is NextKnownSeries(): the cache has it.
  void OnKnownSample(const FamilyView& family, double value, std::int64_t timestamp_ms,
                     std::string_view series) final {
    OnKnownSeries(family, series, value, timestamp_ms);
  }

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
  std::string_view NextKnownSeries() override { return cache_.Expected(); }

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

// Renders each sample of a kept body, as stored (final names and labels), for /metrics.
class RenderingVisitor final : public LabellingVisitor {
 public:
  RenderingVisitor(TargetLabeler& labeler, std::string_view prefix, TextExpositionBuilder& out)
      : LabellingVisitor(labeler, prefix), out_(out) {}

  void OnHelpAfterSamples(const FamilyView& family) override {
    out_.SetHelp(FamilyView{FamilyName(family), family.help, family.type, family.ordinal});
  }

 private:
  void OnLabelled(std::string_view family_name, const FamilyView& family, std::string_view name,
                  std::span<const LabelView> labels, double value, std::int64_t timestamp_ms,
                  std::string_view) override {
    out_.AddSample(FamilyView{family_name, family.help, family.type, family.ordinal}, name, labels,
                   value, timestamp_ms);
  }

  TextExpositionBuilder& out_;
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
