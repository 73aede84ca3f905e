#include "agent/shipped_batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "queue/batch_codec.h"

namespace metricsd {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs Decorated(ShippedBatch& batch, const Pairs& own) {
  std::vector<LabelView> views;
  for (const auto& [name, value] : own) {
    views.push_back(LabelView{name, value});
  }
  Pairs out;
  for (const LabelView& label : batch.Decorate(views)) {
    out.emplace_back(std::string(label.name), std::string(label.value));
  }
  return out;
}

TEST(ShippedBatch, EverySampleCarriesTheInstanceInLabelOrder) {
  ShippedBatch batch("node-7", {});
  EXPECT_EQ(Decorated(batch, {}), (Pairs{{"instance", "node-7"}}));
  EXPECT_EQ(Decorated(batch, {{"cpu", "0"}, {"mode", "idle"}}),
            (Pairs{{"cpu", "0"}, {"instance", "node-7"}, {"mode", "idle"}}));
}

// As Prometheus does when a scraped label collides with a target label (honor_labels off).
TEST(ShippedBatch, ASamplesOwnInstanceIsKeptAsExportedInstance) {
  ShippedBatch batch("node-7", {});
  EXPECT_EQ(
      Decorated(batch, {{"instance", "10.0.0.5:9100"}, {"job", "app"}}),
      (Pairs{{"exported_instance", "10.0.0.5:9100"}, {"instance", "node-7"}, {"job", "app"}}));
  EXPECT_EQ(Decorated(batch, {{"exported_instance", "a"}, {"instance", "b"}}),
            (Pairs{{"exported_exported_instance", "b"},
                   {"exported_instance", "a"},
                   {"instance", "node-7"}}));
}

TEST(ShippedBatch, GlobalLabelsFillInButNeverOverrideTheSamplesOwn) {
  ShippedBatch batch("node-7", {{"region", "eu"}, {"cluster", "c1"}});
  EXPECT_EQ(Decorated(batch, {{"cluster", "mine"}, {"zz", "1"}}),
            (Pairs{{"cluster", "mine"}, {"instance", "node-7"}, {"region", "eu"}, {"zz", "1"}}));
}

TEST(ShippedBatch, EmptyInstanceAddsNone) {
  ShippedBatch batch("", {{"cluster", "c1"}});
  EXPECT_EQ(Decorated(batch, {{"instance", "x"}}), (Pairs{{"cluster", "c1"}, {"instance", "x"}}));
  ShippedBatch bare("", {});
  EXPECT_EQ(Decorated(bare, {{"a", "1"}}), (Pairs{{"a", "1"}}));
}

TEST(ShippedBatch, FamiliesAreEncodedWithTheShippedLabels) {
  ShippedBatch batch("node-7", {{"cluster", "c1"}});
  MetricFamily family{.name = "system_load1", .help = "Load.", .type = MetricType::kGauge};
  family.samples.push_back(Sample{"system_load1", {}, 0.5, 1'700'000'000'000});
  batch.AddFamilies({family});
  queue::EncodedBatch encoded = batch.Take();
  EXPECT_EQ(encoded.samples, 1U);
  EXPECT_EQ(encoded.min_timestamp_ms, 1'700'000'000'000);
  auto decoded = queue::DecodeBatch(encoded.payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_EQ(decoded->size(), 1U);
  const Sample& sample = (*decoded)[0].samples.at(0);
  EXPECT_EQ(sample.labels, (Labels{{"cluster", "c1"}, {"instance", "node-7"}}));
  EXPECT_EQ(sample.value, 0.5);
  EXPECT_EQ(batch.Take().samples, 0U);  // Take() starts a new batch
}

}  // namespace
}  // namespace metricsd
