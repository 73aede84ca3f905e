#include "agent/staleness.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "queue/batch_codec.h"

namespace metricsd {
namespace {

MetricFamily Interfaces(const std::vector<std::string>& names, std::int64_t ts) {
  MetricFamily family{.name = "system_network_bytes_recv_total",
                      .help = "Bytes received.",
                      .type = MetricType::kCounter};
  for (const std::string& name : names) {
    family.samples.push_back(
        Sample{"system_network_bytes_recv_total", {{"interface", name}}, 100, ts});
  }
  return family;
}

// The samples of what `batch` holds now, decoded.
std::vector<Sample> Shipped(ShippedBatch& batch) {
  queue::EncodedBatch encoded = batch.Take();
  std::vector<Sample> out;
  auto decoded = queue::DecodeBatch(encoded.payload);
  EXPECT_TRUE(decoded.ok());
  for (const MetricFamily& family : *decoded) {
    out.insert(out.end(), family.samples.begin(), family.samples.end());
  }
  return out;
}

TEST(StalenessTracker, AVanishedSeriesGetsOneStaleMarkerAtTheCycleTime) {
  StalenessTracker tracker;
  ShippedBatch batch("node-1", {});
  EXPECT_EQ(tracker.Cycle({Interfaces({"eth0", "eth1"}, 1000)}, 1000, batch), 0u);
  batch.Take();
  EXPECT_EQ(tracker.Cycle({Interfaces({"eth0"}, 2000)}, 2000, batch), 1u);
  std::vector<Sample> markers = Shipped(batch);
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].name, "system_network_bytes_recv_total");
  EXPECT_EQ(markers[0].labels, (Labels{{"instance", "node-1"}, {"interface", "eth1"}}));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(markers[0].value), kStaleNaNBits);
  EXPECT_EQ(markers[0].timestamp_ms, 2000);
  // Marked once: the next cycle without it says nothing more.
  EXPECT_EQ(tracker.Cycle({Interfaces({"eth0"}, 3000)}, 3000, batch), 0u);
  EXPECT_EQ(tracker.tracked(), 1u);
  // It may come back, and go again.
  EXPECT_EQ(tracker.Cycle({Interfaces({"eth0", "eth1"}, 4000)}, 4000, batch), 0u);
  EXPECT_EQ(tracker.Cycle({Interfaces({}, 5000)}, 5000, batch), 2u);
  EXPECT_EQ(tracker.tracked(), 0u);
}

TEST(StalenessTracker, ACollectorThatProducesNothingMarksAllItsSeries) {
  StalenessTracker tracker;
  ShippedBatch batch("", {});
  MetricFamily load{.name = "system_load_1", .help = "", .type = MetricType::kGauge};
  load.samples.push_back(Sample{"system_load_1", {}, 0.5, 1000});
  tracker.Cycle({Interfaces({"eth0", "lo"}, 1000), load}, 1000, batch);
  batch.Take();
  // The network collector failed this cycle: its family is absent.
  EXPECT_EQ(tracker.Cycle({load}, 2000, batch), 2u);
  std::vector<Sample> markers = Shipped(batch);
  ASSERT_EQ(markers.size(), 2u);
  for (const Sample& marker : markers) {
    EXPECT_EQ(marker.name, "system_network_bytes_recv_total");
    EXPECT_EQ(std::bit_cast<std::uint64_t>(marker.value), kStaleNaNBits);
  }
}

TEST(StalenessTracker, APrefixLimitsWhatIsTracked) {
  StalenessTracker tracker("system_network_");
  ShippedBatch batch("", {});
  MetricFamily load{.name = "system_load_1", .help = "", .type = MetricType::kGauge};
  load.samples.push_back(Sample{"system_load_1", {}, 0.5, 1000});
  tracker.Cycle({Interfaces({"eth0"}, 1000), load}, 1000, batch);
  EXPECT_EQ(tracker.tracked(), 1u);
  batch.Take();
  // load vanishing is not this tracker's business; eth0 vanishing is.
  EXPECT_EQ(tracker.Cycle({}, 2000, batch), 1u);
  std::vector<Sample> markers = Shipped(batch);
  ASSERT_EQ(markers.size(), 1u);
  EXPECT_EQ(markers[0].name, "system_network_bytes_recv_total");
}

TEST(StalenessTracker, LabelValuesAndNamesTellSeriesApart) {
  StalenessTracker tracker;
  ShippedBatch batch("", {});
  MetricFamily family{.name = "m", .help = "", .type = MetricType::kGauge};
  family.samples.push_back(Sample{"m", {{"a", "bc"}}, 1, 1});
  family.samples.push_back(Sample{"m", {{"ab", "c"}}, 1, 1});
  tracker.Cycle({family}, 1, batch);
  EXPECT_EQ(tracker.tracked(), 2u);
  family.samples.pop_back();
  EXPECT_EQ(tracker.Cycle({family}, 2, batch), 1u);
}

}  // namespace
}  // namespace metricsd
