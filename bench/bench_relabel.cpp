// Relabel engine cost per series: 10,000 series of 7 labels (__name__ included, the shape
// of a node_exporter or an application scrape) through one program. The counter
// `per_series` is the time per series (e.g. "85n" = 85 ns). The caller's side is what a
// scrape loop would do: a sorted span of LabelView in, an owned set out only when changed.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "relabel/relabel.h"

namespace metricsd {
namespace {

constexpr int kSeries = 10000;

struct Corpus {
  std::vector<Labels> owned;
  std::vector<std::vector<LabelView>> views;
};

const Corpus& Series() {
  static const Corpus corpus = [] {
    const char* names[] = {"node_cpu_seconds_total",        "node_network_receive_bytes_total",
                           "http_requests_total",           "http_request_duration_seconds_bucket",
                           "process_resident_memory_bytes", "go_gc_duration_seconds"};
    const char* modes[] = {"idle", "user", "system", "iowait", "irq", "softirq", "steal"};
    const char* jobs[] = {"node", "api-job", "worker-job", "test-job"};
    Corpus c;
    for (int i = 0; i < kSeries; ++i) {
      Labels labels{
          {"__name__", names[i % 6]},
          {"cpu", std::to_string(i % 64)},
          {"env", i % 3 == 0 ? "prod" : "staging"},
          {"instance", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":9100"},
          {"job", jobs[i % 4]},
          {"mode", modes[i % 7]},
          {"region", i % 2 == 0 ? "eu-west-1" : "us-east-2"},
      };
      SortLabels(labels);
      c.owned.push_back(std::move(labels));
    }
    for (const Labels& labels : c.owned) {
      std::vector<LabelView> views;
      for (const Label& label : labels) {
        views.push_back({label.name, label.value});
      }
      c.views.push_back(std::move(views));
    }
    return c;
  }();
  return corpus;
}

void RunProgram(benchmark::State& state, const std::vector<RelabelRule>& rules) {
  Result<RelabelProgram> program = RelabelProgram::Compile(rules);
  if (!program.ok()) {
    state.SkipWithError(program.error().c_str());
    return;
  }
  const Corpus& corpus = Series();
  RelabelScratch scratch;
  Labels out;
  std::int64_t outcomes[3] = {};
  for (auto _ : state) {
    for (const std::vector<LabelView>& views : corpus.views) {
      const RelabelOutcome outcome = program->Apply(views, scratch, out);
      ++outcomes[static_cast<int>(outcome)];
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kSeries);
  state.counters["per_series"] = benchmark::Counter(
      kSeries, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  const double total = static_cast<double>(outcomes[0] + outcomes[1] + outcomes[2]);
  state.counters["changed_share"] = static_cast<double>(outcomes[1]) / total;
  state.counters["dropped_share"] = static_cast<double>(outcomes[2]) / total;
}

// Keeps every series of the corpus: the no-change path.
void BM_Keep(benchmark::State& state) {
  RunProgram(
      state,
      {{.source_labels = {"__name__"}, .regex = "(node|http|process|go)_.+", .action = "keep"}});
}
BENCHMARK(BM_Keep);

// Drops a quarter (job test-job) by two joined source labels; the rest stays unchanged.
void BM_Drop(benchmark::State& state) {
  RunProgram(state, {{.source_labels = {"job", "env"}, .regex = "test-job;.*", .action = "drop"}});
}
BENCHMARK(BM_Drop);

// Writes a new label from a capture group into every series (always changes).
void BM_Replace(benchmark::State& state) {
  RunProgram(state, {{.source_labels = {"instance"},
                      .regex = "([^:]+):\\d+",
                      .target_label = "host",
                      .replacement = "$1"}});
}
BENCHMARK(BM_Replace);

// Copies two labels under new names in every series (always changes).
void BM_LabelMap(benchmark::State& state) {
  RunProgram(state, {{.regex = "(env|region)", .replacement = "k8s_$1", .action = "labelmap"}});
}
BENCHMARK(BM_LabelMap);

// A usual metric_relabel_configs list: drop Go runtime series, drop a label, rename one.
void BM_TypicalChain(benchmark::State& state) {
  RunProgram(state, {{.source_labels = {"__name__"}, .regex = "go_.*", .action = "drop"},
                     {.regex = "cpu", .action = "labeldrop"},
                     {.source_labels = {"job"},
                      .regex = "(.+)-job",
                      .target_label = "service",
                      .replacement = "$1"}});
}
BENCHMARK(BM_TypicalChain);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
