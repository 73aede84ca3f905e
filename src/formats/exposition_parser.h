// Parsers for the two pull exposition formats a scrape target may answer with:
// Prometheus text 0.0.4 and OpenMetrics 1.0 (docs/scrape-formats.md lists exactly what each
// accepts). One parser reads both; what differs between the formats is one constant
// description per format in exposition_parser.cpp, and the lexical rules (numbers, escapes,
// UTF-8) live in exposition_lexing.h.
//
// Both read a whole body held by the caller and hand each sample to a SampleVisitor, in body
// order, with views that are valid for the call only:
// - family name, help and type come from "# TYPE"/"# HELP" (OpenMetrics "# UNIT" is checked and
//   dropped); samples keep their full names, so a histogram family "x" holds x_bucket, x_sum and
//   x_count, and an OpenMetrics counter family "foo" holds foo_total (and foo_created);
// - a family seen only through its samples (no TYPE) is untyped;
// - labels are sorted by name, duplicates are invalid, empty-valued labels are dropped (an empty
//   value means "no label" in both formats and remote write forbids them);
// - samples without a timestamp get `default_timestamp_ms`; text timestamps are int64
//   milliseconds, OpenMetrics timestamps are (fractional) seconds converted to milliseconds;
// - exemplars are validated and discarded.
//
// Error handling differs on purpose:
// - Prometheus text is lenient like the Prometheus scraper: an invalid line is skipped and
//   counted in ParseStats, every other line still counts. Never throws, never fails as a whole.
// - OpenMetrics requires rejecting a partial or invalid exposition as a whole: the first
//   violation (including a missing "# EOF") makes ParseOpenMetrics return an error,
//   stats.samples is not increased and stats.invalid_lines grows by one. Violations include
//   the per-type rules that span samples (histogram buckets, interleaved Metrics, timestamp
//   order); the upstream conformance suite in tests/fixtures/openmetrics-parsers decides what
//   is valid. The visitor has already seen the samples before a late violation, so the caller
//   discards what it received.
//
// The family form (the overloads taking std::vector<MetricFamily>) is the FamilyCollector
// visitor (family_collector.h): it APPENDS one MetricFamily per family with samples, and a
// rejected OpenMetrics body leaves `out` exactly as it was.
//
// Pure functions: no globals, safe to call from any number of threads on different outputs.
// Cost is linear in the body size; there is no line-length limit (callers cap the body size).
// Besides the samples, OpenMetrics keeps a 64-bit hash per label set of the family being read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"
#include "core/result.h"

namespace metricsd {

// Counters of one or more parse calls. The parsers add to them, so one ParseStats can sum
// several bodies; first_error is only written while it is empty.
struct ParseStats {
  std::size_t samples = 0;        // samples handed to the visitor
  std::size_t invalid_lines = 0;  // lines skipped (text) or expositions rejected (OpenMetrics)
  std::string first_error;        // "line N: reason" of the first problem seen, if any
};

struct FamilyView {
  std::string_view name;
  std::string_view help;  // as far as seen when the sample is visited
  MetricType type = MetricType::kUntyped;
  std::size_t ordinal = 0;  // the family's number in this body (from 0, in order of appearance)
};

class SampleVisitor {
 public:
  virtual ~SampleVisitor() = default;
  // `labels` are sorted by name, unique, without empty values. `series` is the sample's name
  // and label block as written in the body (the bytes before the value): the same text is
  // the same name and labels, which is what a series cache keys on.
  virtual void OnSample(const FamilyView& family, std::string_view name,
                        std::span<const LabelView> labels, double value, std::int64_t timestamp_ms,
                        std::string_view series) = 0;
  // A HELP line for a family whose samples were already visited (the text format allows
  // HELP anywhere); every earlier HELP arrives in FamilyView::help.
  virtual void OnHelpAfterSamples(const FamilyView& /*family*/) {}
  // The series text (with a label block) the visitor expects next and can take without its
  // labels, e.g. from a series cache; empty: none. A text-format sample line that starts
  // with it is passed to OnKnownSample, its label block not lexed again.
  virtual std::string_view NextKnownSeries() { return {}; }
  virtual void OnKnownSample(const FamilyView& /*family*/, double /*value*/,
                             std::int64_t /*timestamp_ms*/, std::string_view /*series*/) {}
};

void ParsePrometheusText(std::string_view body, std::int64_t default_timestamp_ms,
                         SampleVisitor& visitor, ParseStats& stats);

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        SampleVisitor& visitor, ParseStats& stats);

// The family form, through FamilyCollector.
void ParsePrometheusText(std::string_view body, std::int64_t default_timestamp_ms,
                         std::vector<MetricFamily>& out, ParseStats& stats);

Status ParseOpenMetrics(std::string_view body, std::int64_t default_timestamp_ms,
                        std::vector<MetricFamily>& out, ParseStats& stats);

}  // namespace metricsd
