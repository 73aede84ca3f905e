// Remote-write encode throughput: protobuf + snappy for realistic host-metric batches
// (4 labels per sample, a few dozen metric names). Reports samples/s and bytes per sample
// after snappy. Run: build/bench/bench_remote_write
#include <benchmark/benchmark.h>
#include <snappy.h>

#include <string>
#include <vector>

#include "formats/http_json_encoder.h"
#include "formats/influx_line_encoder.h"
#include "formats/remote_write_encoder.h"
#include "formats/snappy_skeleton.h"

namespace metricsd {
namespace {

// `n` samples: 40 metric names x devices, labels {cluster, device, host, job}, values that
// change like counters and gauges do.
std::vector<MetricFamily> MakeBatch(int n) {
  std::vector<MetricFamily> families;
  const int names = 40;
  const int per_family = (n + names - 1) / names;
  const std::int64_t ts = 1'700'000'000'000;
  int made = 0;
  for (int f = 0; f < names && made < n; ++f) {
    std::string name = "system_metric_" + std::to_string(f) + (f % 2 ? "_bytes_total" : "_percent");
    MetricFamily family{name, "", f % 2 ? MetricType::kCounter : MetricType::kGauge, {}};
    for (int i = 0; i < per_family && made < n; ++i, ++made) {
      family.samples.push_back(Sample{name,
                                      {{"cluster", "eu-west-1"},
                                       {"device", "dev" + std::to_string(i)},
                                       {"host", "node-0042.example.internal"},
                                       {"job", "metricsd"}},
                                      f % 2 ? 123456789.0 * i + f : 0.25 * (i % 400),
                                      ts + (i % 7)});
    }
    families.push_back(std::move(family));
  }
  return families;
}

void BM_RemoteWriteEncode(benchmark::State& state) {
  auto batch = MakeBatch(static_cast<int>(state.range(0)));
  const SampleViews views = ViewsOf(batch);
  const SampleRange samples = AllSamples(views);
  formats::RemoteWriteEncoder encoder;
  std::string body;
  formats::EncodeStats stats;
  for (auto _ : state) {
    encoder.Encode(samples, body, stats);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(samples.size()));
  state.counters["snappy_bytes_per_sample"] = double(body.size()) / double(samples.size());
  state.counters["proto_bytes_per_sample"] =
      double(encoder.last_protobuf().size()) / double(samples.size());
}
BENCHMARK(BM_RemoteWriteEncode)->Arg(2000)->Arg(50000);

void BM_HttpJsonEncode(benchmark::State& state) {
  auto batch = MakeBatch(static_cast<int>(state.range(0)));
  const SampleViews views = ViewsOf(batch);
  const SampleRange samples = AllSamples(views);
  std::string body;
  formats::EncodeStats stats;
  for (auto _ : state) {
    formats::EncodeHttpJson(samples, 1'700'000'000, body, stats);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(samples.size()));
  state.counters["bytes_per_sample"] = double(body.size()) / double(samples.size());
}
BENCHMARK(BM_HttpJsonEncode)->Arg(2000);

void BM_InfluxEncode(benchmark::State& state) {
  auto batch = MakeBatch(static_cast<int>(state.range(0)));
  const SampleViews views = ViewsOf(batch);
  const SampleRange samples = AllSamples(views);
  std::string body;
  formats::EncodeStats stats;
  for (auto _ : state) {
    formats::EncodeInfluxLines(samples, formats::InfluxPrecision::kNanoseconds, body, stats);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(samples.size()));
  state.counters["bytes_per_sample"] = double(body.size()) / double(samples.size());
}
BENCHMARK(BM_InfluxEncode)->Arg(2000);

// The compression of one request of 2,000 samples whose values move each cycle (counters by
// a whole step, gauges by a fraction), timestamps with them:
//   0: snappy::RawCompress;
//   1: rebuilt from the skeleton of the cycle before (formats/snappy_skeleton.h);
//   2: a run seen for the first time every cycle (a target whose series change each scrape):
//      snappy and the bookkeeping around it.
void BM_RequestCompression(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  std::string protos[2];
  for (int cycle = 0; cycle < 2; ++cycle) {
    auto batch = MakeBatch(2000);
    for (MetricFamily& family : batch) {
      for (Sample& sample : family.samples) {
        sample.value += family.type == MetricType::kCounter ? 1000 * cycle : 0.37 * cycle;
        sample.timestamp_ms = 1'700'000'000'000 + 15'000 * cycle;
      }
    }
    const SampleViews views = ViewsOf(batch);
    formats::RemoteWriteEncoder encoder;
    formats::EncodeStats stats;
    std::string body;
    encoder.Encode(AllSamples(views), body, stats);
    protos[cycle] = encoder.last_protobuf();
  }
  formats::SnappySkeletonCache cache;
  ByteBuffer out;
  std::string block;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& proto = protos[i++ % 2];
    out.clear();
    if (mode == 0) {
      char* dest = out.Reserve(snappy::MaxCompressedLength(proto.size()));
      std::size_t length = 0;
      snappy::RawCompress(proto.data(), proto.size(), dest, &length);
      out.Commit(dest + length);
    } else {
      cache.AppendElements(proto, out);
      if (mode == 2) {
        cache = formats::SnappySkeletonCache();
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 2000);
  state.counters["compressed_bytes_per_sample"] = double(out.size()) / 2000;
  state.counters["proto_bytes_per_sample"] = double(protos[0].size()) / 2000;
}
BENCHMARK(BM_RequestCompression)->ArgName("mode")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace metricsd

BENCHMARK_MAIN();
