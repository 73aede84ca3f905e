// libFuzzer: the scrape path with its series cache must stream exactly what the uncached path
// streams. The input is a run of bodies (split at byte 0x01), scraped one after the other by
// the same target, so series come, go, repeat and change places at random. Each body goes
// through two StreamingVisitors that share the target's labels, relabeling rules and limits:
// one with a sink that has a prepared form (so its cache is used), one whose sink has none
// (every series relabeled, checked and added each time). Their samples must be equal, body by
// body, including what a failed body takes back.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/body_visitors.h"

namespace {

using namespace metricsd;

void Check(bool ok, int line = __builtin_LINE()) {
  if (!ok) {
    std::fprintf(stderr, "check failed at line %d\n", line);
    __builtin_trap();
  }
}

// Records samples as text; with `prepares`, it offers a prepared form (its labels as text).
class TextSink final : public ScrapeSampleSink {
 public:
  explicit TextSink(bool prepares) : prepares_(prepares) {}
  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms) override {
    std::string series(name);
    for (const LabelView& l : labels) {
      series.append(",").append(l.name).append("=").append(l.value);
    }
    Record(family, help, type, series, value, timestamp_ms);
  }
  void Mark() override { mark_ = lines.size(); }
  void Rollback() override { lines.resize(mark_); }
  bool Prepare(std::string_view name, std::span<const LabelView> labels,
               std::string& out) override {
    if (!prepares_) {
      return false;
    }
    out.append(name);
    for (const LabelView& l : labels) {
      out.append(",").append(l.name).append("=").append(l.value);
    }
    return true;
  }
  void AddPrepared(std::string_view form, std::string_view family, std::string_view help,
                   MetricType type, double value, std::int64_t timestamp_ms) override {
    Record(family, help, type, form, value, timestamp_ms);
  }
  std::vector<std::string> lines;

 private:
  void Record(std::string_view family, std::string_view help, MetricType type,
              std::string_view series, double value, std::int64_t timestamp_ms) {
    lines.push_back(std::string(family) + "|" + std::string(help) + "|" +
                    std::to_string(static_cast<int>(type)) + "|" + std::string(series) + " " +
                    std::to_string(std::bit_cast<std::uint64_t>(value)) + " @" +
                    std::to_string(timestamp_ms));
  }
  bool prepares_;
  std::size_t mark_ = 0;
};

RelabelProgram Rules() {
  RelabelRule drop;
  drop.source_labels = {"__name__"};
  drop.regex = "app_d.*";
  drop.action = "drop";
  RelabelRule copy;
  copy.source_labels = {"a"};
  copy.regex = "(.+)";
  copy.target_label = "copied";
  copy.replacement = "v$1";
  const std::vector<RelabelRule> rules = {drop, copy};
  Result<RelabelProgram> program = RelabelProgram::Compile(rules);
  Check(program.ok());
  return std::move(*program);
}

struct Path {
  explicit Path(bool cached)
      : relabel(Rules()),
        labeler("app_", "t", Labels{{"team", "x"}}, relabel),
        sink(cached),
        cache(64) {}
  RelabelProgram relabel;
  TargetLabeler labeler;
  TextSink sink;
  SeriesTracker series;
  SeriesCache cache;

  // The body of the last good scrape: the cache's texts point into it. Each body is an
  // allocation of its own, freed once it is not kept, so that a text left behind in a freed
  // body is a use after free the sanitizer reports.
  std::unique_ptr<std::string> kept;

  std::vector<std::string> Scrape(std::string_view input, bool open_metrics, std::int64_t now) {
    auto fresh = std::make_unique<std::string>(input);
    const std::string_view body = *fresh;
    config::ScrapeLimits limits;
    limits.sample_limit = 50;
    limits.label_limit = 6;
    limits.label_value_length_limit = 40;
    LimitCheck check(limits);
    const std::size_t from = sink.lines.size();
    sink.Mark();
    cache.BeginScrape();
    StreamingVisitor visitor(labeler, "app_", check, sink, series, cache, now);
    ParseStats stats;
    Status parsed = Status::Ok();
    if (open_metrics) {
      parsed = ParseOpenMetrics(body, now, visitor, stats);
    } else {
      ParsePrometheusText(body, now, visitor, stats);
    }
    cache.EndScrape();
    if (!parsed || check.exceeded() != nullptr || visitor.unnamed()) {
      sink.Rollback();
      cache.Clear();  // as the scrape collector does: a failed body is not kept
    } else {
      kept = std::move(fresh);
    }
    std::vector<std::uint64_t> gone;
    series.EndRound(gone);
    return {sink.lines.begin() + static_cast<std::ptrdiff_t>(from), sink.lines.end()};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) {
    return 0;
  }
  const bool open_metrics = (input.front() & 1) != 0;
  input.remove_prefix(1);
  Path cached(true);
  Path uncached(false);
  std::int64_t now = 1'700'000'000'000;
  for (int round = 0; round < 16 && !input.empty(); ++round) {
    const std::size_t cut = input.find('\x01');
    const std::string_view body = input.substr(0, cut);
    input.remove_prefix(cut == std::string_view::npos ? input.size() : cut + 1);
    Check(cached.Scrape(body, open_metrics, now) == uncached.Scrape(body, open_metrics, now));
    Check(cached.cache.size() <= 64);
    now += 1000;
  }
  return 0;
}
