// The scrape-to-remote-write path a 50,000-series target takes every interval, stage by stage,
// as the daemon runs it (no MetricFamily is built on the way):
//   BM_ParseOnly           the text parser with a visitor that does nothing (the parser floor);
//   BM_ScrapeToQueue       parse + prefix/endpoint/extra labels + queue encoding (BatchWriter),
//                          what the scrape thread does per body; staleness:1 also tracks the
//                          series for staleness markers (a steady target: nothing vanishes);
//   BM_ScrapeToQueueRelabeled  the same with one metric relabel rule of each kind;
//   BM_ScrapeToRequests    the scrape thread's real path into finished remote write requests,
//                          per relabel rule kind, without and with the series cache;
//   BM_TrackSteadyTarget   the staleness tracking alone (the difference staleness:1 makes);
//   BM_QueueToRemoteWrite  decode the queued record into views, 2,000 samples at a time, and
//                          encode each as a remote-write request (protobuf + snappy), what the
//                          sender thread does.
// items_per_second is samples per second; the sum of the last two is the agent's CPU per
// sample, apart from HTTP and the WAL write.
#include <benchmark/benchmark.h>

#include <string>

#include "agent/shipped_batch.h"
#include "collectors/body_visitors.h"
#include "collectors/series_cache.h"
#include "core/sample_views.h"
#include "core/series_tracker.h"
#include "exposition_generator.h"
#include "formats/exposition_parser.h"
#include "formats/remote_write_encoder.h"
#include "formats/target_labels.h"
#include "queue/batch_codec.h"

namespace metricsd {
namespace {

constexpr std::size_t kSeries = 50000;
constexpr std::size_t kSamplesPerRequest = 2000;

const std::string& Body() {
  static const std::string body = bench::GenerateExposition(kSeries, false);
  return body;
}

struct NullVisitor final : SampleVisitor {
  void OnSample(const FamilyView&, std::string_view, std::span<const LabelView>, double,
                std::int64_t, std::string_view) override {
    ++samples;
  }
  std::size_t samples = 0;
};

struct QueueVisitor final : SampleVisitor {
  explicit QueueVisitor(RelabelProgram relabel = {})
      : labeler("", "bench", Labels{{"team", "infra"}}, std::move(relabel)) {}
  void OnSample(const FamilyView& family, std::string_view name, std::span<const LabelView> labels,
                double value, std::int64_t timestamp_ms, std::string_view /*series*/) override {
    if (labeler.Apply(name, labels) != RelabelVerdict::kKeep) {
      return;
    }
    writer.Add(family.name, family.help, family.type, labeler.name(), labeler.labels(), value,
               timestamp_ms);
    if (series != nullptr) {
      series->Seen(SeriesTracker::Key(labeler.name(), labeler.labels()));
    }
  }
  TargetLabeler labeler;
  queue::BatchWriter writer;
  SeriesTracker* series = nullptr;  // set: staleness tracking, as while shipping
};

void BM_ParseOnly(benchmark::State& state) {
  std::size_t samples = 0;
  for (auto _ : state) {
    NullVisitor visitor;
    ParseStats stats;
    ParsePrometheusText(Body(), 1'700'000'000'000, visitor, stats);
    samples = visitor.samples;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * Body().size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

void BM_ScrapeToQueue(benchmark::State& state) {
  QueueVisitor visitor;
  SeriesTracker series;
  std::vector<std::uint64_t> gone;
  if (state.range(0) != 0) {
    visitor.series = &series;
  }
  std::size_t samples = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    ParseStats stats;
    ParsePrometheusText(Body(), 1'700'000'000'000, visitor, stats);
    series.EndRound(gone);
    samples = visitor.writer.samples();
    std::string encoded = visitor.writer.Finish();
    bytes = encoded.size();
    benchmark::DoNotOptimize(encoded.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.counters["queue_bytes_per_sample"] =
      static_cast<double>(bytes) / static_cast<double>(samples);
}
BENCHMARK(BM_ScrapeToQueue)->Arg(0)->Arg(1)->ArgName("staleness")->Unit(benchmark::kMillisecond);

// BM_ScrapeToQueue (staleness off) with an endpoint's metric_relabel_configs, one kind of rule
// at a time, uncached: every sample runs the rules on every scrape. none: no rules (the
// baseline); keep: a keep that matches every series (nothing changes); drop: drops the
// handler="/healthz" series (a tenth); replace: copies method into a new label on every
// series; labelmap: copies method and handler to new names.
RelabelRule BenchRule(int kind) {
  RelabelRule rule;
  switch (kind) {
    case 1:
      rule.source_labels = {"__name__"};
      rule.regex = "service_.*";
      rule.action = "keep";
      break;
    case 2:
      rule.source_labels = {"handler"};
      rule.regex = "/healthz";
      rule.action = "drop";
      break;
    case 3:
      rule.source_labels = {"method"};
      rule.target_label = "verb";
      break;
    case 4:
      rule.regex = "(method|handler)";
      rule.replacement = "http_$1";
      rule.action = "labelmap";
      break;
    default:
      break;
  }
  return rule;
}

void BM_ScrapeToQueueRelabeled(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  RelabelProgram program;
  if (kind != 0) {
    const RelabelRule rules[] = {BenchRule(kind)};
    program = *RelabelProgram::Compile(rules);
  }
  QueueVisitor visitor(program);
  std::size_t samples = 0;
  for (auto _ : state) {
    ParseStats stats;
    ParsePrometheusText(Body(), 1'700'000'000'000, visitor, stats);
    samples = stats.samples;
    std::string encoded = visitor.writer.Finish();
    benchmark::DoNotOptimize(encoded.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
}
BENCHMARK(BM_ScrapeToQueueRelabeled)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(3)
    ->Arg(4)
    ->ArgName("none_keep_drop_replace_labelmap")
    ->Unit(benchmark::kMillisecond);

// The scrape thread's real path (StreamingVisitor, as ScrapeCollector runs it: relabeling,
// limits, staleness tracking) into one remote write shipper's finished requests
// (ShippedBatch), for a steady target, with one rule of each kind (first argument, as above),
// without (second argument 0: the sink offers no prepared form, so every series is relabeled
// and encoded each scrape) and with the series cache (1: every series is known).
class UncachedSink final : public ScrapeSampleSink {
 public:
  explicit UncachedSink(ScrapeSampleSink& inner) : inner_(inner) {}
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override {
    inner_.Add(family, help, type, name, labels, value, timestamp_ms);
  }
  void Mark() override { inner_.Mark(); }
  void Rollback() override { inner_.Rollback(); }

 private:
  ScrapeSampleSink& inner_;
};

void BM_ScrapeToRequests(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const bool cached = state.range(1) != 0;
  RelabelProgram program;
  if (kind != 0) {
    const RelabelRule rules[] = {BenchRule(kind)};
    program = *RelabelProgram::Compile(rules);
  }
  TargetLabeler labeler("", "bench", Labels{{"team", "infra"}}, program);
  std::vector<ShipperFeed> feeds(1);
  feeds[0].ready_requests = kSamplesPerRequest;
  ShippedBatch batch("node-1", {}, std::move(feeds));
  UncachedSink uncached(batch);
  ScrapeSampleSink& sink = cached ? static_cast<ScrapeSampleSink&>(batch) : uncached;
  const config::ScrapeLimits limits;
  SeriesTracker series;
  SeriesCache cache(limits.sample_limit);
  std::vector<std::uint64_t> gone;
  const std::int64_t now = 1'700'000'000'000;
  std::size_t samples = 0;
  std::size_t wire_bytes = 0;
  for (auto _ : state) {
    LimitCheck check(limits);
    sink.Mark();
    cache.BeginScrape();
    StreamingVisitor visitor(labeler, "", check, sink, series, cache, now);
    ParseStats stats;
    ParsePrometheusText(Body(), now, visitor, stats);
    cache.EndScrape();
    series.EndRound(gone);
    samples = stats.samples;
    wire_bytes = 0;
    batch.Take([&](std::span<const queue::EncodedBatch> records, std::span<const std::size_t>,
                   const formats::EncodeStats&) {
      for (const queue::EncodedBatch& record : records) {
        wire_bytes += record.payload.size();
      }
    });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.counters["wire_bytes_per_sample"] =
      static_cast<double>(wire_bytes) / static_cast<double>(samples);
}
BENCHMARK(BM_ScrapeToRequests)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {0, 1}})
    ->ArgNames({"none_keep_drop_replace_labelmap", "cache"})
    ->Unit(benchmark::kMillisecond);

// The staleness tracking alone, per sample, for a steady 50,000-series target (every series
// comes back, in the same order): what staleness:1 adds to BM_ScrapeToQueue.
void BM_TrackSteadyTarget(benchmark::State& state) {
  std::vector<MetricFamily> families;
  ParseStats stats;
  ParsePrometheusText(Body(), 1'700'000'000'000, families, stats);
  TargetLabeler labeler("", "bench", Labels{{"team", "infra"}});
  struct Row {
    std::string family;
    MetricType type;
    std::string name;
    Labels labels;
  };
  std::vector<Row> rows;
  std::vector<LabelView> views;
  for (const MetricFamily& f : families) {
    for (const Sample& sample : f.samples) {
      views.clear();
      for (const Label& l : sample.labels) {
        views.push_back(LabelView{l.name, l.value});
      }
      labeler.Apply(sample.name, views);
      Row row{f.name, f.type, std::string(labeler.name()), {}};
      for (const LabelView& l : labeler.labels()) {
        row.labels.push_back(Label{std::string(l.name), std::string(l.value)});
      }
      rows.push_back(std::move(row));
    }
  }
  std::vector<std::vector<LabelView>> row_views;
  for (const Row& row : rows) {
    auto& v = row_views.emplace_back();
    for (const Label& l : row.labels) {
      v.push_back(LabelView{l.name, l.value});
    }
  }
  SeriesTracker series;
  std::vector<std::uint64_t> gone;
  for (auto _ : state) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      series.Seen(SeriesTracker::Key(rows[i].name, row_views[i]));
    }
    series.EndRound(gone);
    benchmark::DoNotOptimize(gone.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rows.size()));
}
BENCHMARK(BM_TrackSteadyTarget)->Unit(benchmark::kMillisecond);

void BM_QueueToRemoteWrite(benchmark::State& state) {
  QueueVisitor visitor;
  ParseStats stats;
  ParsePrometheusText(Body(), 1'700'000'000'000, visitor, stats);
  const std::string record = visitor.writer.Finish();
  SampleViews views;
  formats::RemoteWriteEncoder encoder;
  std::string body;
  std::size_t wire_bytes = 0;
  std::size_t samples = 0;
  for (auto _ : state) {
    // As the sender does it: one request's samples decoded at a time.
    queue::BatchViewReader reader(record);
    wire_bytes = 0;
    samples = 0;
    while (true) {
      views.clear();
      auto more = reader.Next(kSamplesPerRequest, views);
      if (!more.ok()) {
        state.SkipWithError("decode failed");
        break;
      }
      if (!*more) {
        break;
      }
      formats::EncodeStats encode_stats;
      encoder.Encode(AllSamples(views), body, encode_stats);
      wire_bytes += body.size();
      samples += views.samples.size();
    }
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.counters["wire_bytes_per_sample"] =
      static_cast<double>(wire_bytes) / static_cast<double>(samples);
}
BENCHMARK(BM_QueueToRemoteWrite)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
