// Batches shaped like one collection cycle of a host agent, shared by the queue benchmarks.
#pragma once

#include <string>

#include "shippers/shipper.h"

namespace metricsd::bench {

// `samples` samples in families of 100, each with instance/job plus two varying labels.
inline Batch HostLikeBatch(int samples, std::int64_t timestamp_ms) {
  Batch batch;
  static constexpr const char* kModes[] = {"idle", "user", "system", "iowait", "irq"};
  for (int f = 0; f * 100 < samples; ++f) {
    MetricFamily family;
    family.name = "node_metric_" + std::to_string(f) + "_total";
    family.help = "A host metric of the benchmark.";
    family.type = MetricType::kCounter;
    const int n = std::min(100, samples - f * 100);
    family.samples.reserve(n);
    for (int i = 0; i < n; ++i) {
      family.samples.push_back(Sample{family.name,
                                      {{"cpu", std::to_string(i / 5)},
                                       {"instance", "host-01.example.org:9100"},
                                       {"job", "node"},
                                       {"mode", kModes[i % 5]}},
                                      123456.789 + i + f,
                                      timestamp_ms});
    }
    batch.push_back(std::move(family));
  }
  return batch;
}

}  // namespace metricsd::bench
