#include "agent/shipped_batch.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <span>
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

RelabelProgram Program(std::vector<RelabelRule> rules) {
  Result<RelabelProgram> program = RelabelProgram::Compile(rules);
  EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error());
  return program.ok() ? std::move(*program) : RelabelProgram();
}

// "name{label=value,...}" of every sample of an encoded batch.
std::vector<std::string> Series(const queue::EncodedBatch& encoded) {
  std::vector<std::string> out;
  auto decoded = queue::DecodeBatch(encoded.payload);
  EXPECT_TRUE(decoded.ok()) << decoded.error();
  for (const MetricFamily& family : *decoded) {
    for (const Sample& sample : family.samples) {
      std::string text = sample.name + "{";
      for (const Label& label : sample.labels) {
        text += label.name + "=" + label.value + ",";
      }
      out.push_back(text + "}");
    }
  }
  return out;
}

TEST(ShippedBatch, EachShipperGetsWhatItsWriteRelabelRulesLeave) {
  RelabelRule drop_memory;
  drop_memory.source_labels = {"__name__"};
  drop_memory.regex = "system_memory_.*";
  drop_memory.action = "drop";
  RelabelRule tenant;  // sees the instance label added before it
  tenant.source_labels = {"instance"};
  tenant.regex = "node-(.*)";
  tenant.target_label = "tenant";
  tenant.replacement = "t$1";
  // Shippers 0 and 2 have no rules and share one encoding; 1 and 3 have the same kind of
  // rules but each list gets its own.
  ShippedBatch batch("node-7", {},
                     {{RelabelProgram(), std::nullopt},
                      {Program({drop_memory, tenant}), std::nullopt},
                      {RelabelProgram(), std::nullopt},
                      {Program({drop_memory}), std::nullopt}});
  MetricFamily load{.name = "system_load1", .help = "", .type = MetricType::kGauge};
  load.samples.push_back(Sample{"system_load1", {}, 0.5, 1000});
  MetricFamily memory{.name = "system_memory_free_bytes", .help = "", .type = MetricType::kGauge};
  memory.samples.push_back(Sample{"system_memory_free_bytes", {}, 9, 1000});
  batch.Mark();
  batch.AddFamilies({load, memory});
  batch.Rollback();  // taken back from every encoding
  batch.AddFamilies({load, memory});

  std::vector<std::pair<std::vector<std::size_t>, std::vector<std::string>>> shipped;
  batch.Take([&](std::span<const queue::EncodedBatch> records,
                 std::span<const std::size_t> shippers, const formats::EncodeStats&) {
    ASSERT_EQ(records.size(), 1u);  // batch records: one per output
    shipped.emplace_back(std::vector<std::size_t>(shippers.begin(), shippers.end()),
                         Series(records[0]));
  });
  ASSERT_EQ(shipped.size(), 3u);
  EXPECT_EQ(shipped[0].first, (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(shipped[0].second,
            (std::vector<std::string>{"system_load1{instance=node-7,}",
                                      "system_memory_free_bytes{instance=node-7,}"}));
  EXPECT_EQ(shipped[1].first, (std::vector<std::size_t>{1}));
  EXPECT_EQ(shipped[1].second,
            (std::vector<std::string>{"system_load1{instance=node-7,tenant=t7,}"}));
  EXPECT_EQ(shipped[2].first, (std::vector<std::size_t>{3}));
  EXPECT_EQ(shipped[2].second, (std::vector<std::string>{"system_load1{instance=node-7,}"}));
}

// Every record of every output, with the shippers it is for.
std::vector<std::string> Records(ShippedBatch& batch) {
  std::vector<std::string> out;
  batch.Take([&](std::span<const queue::EncodedBatch> records,
                 std::span<const std::size_t> shippers, const formats::EncodeStats&) {
    std::string text = "to";
    for (std::size_t i : shippers) {
      text += " " + std::to_string(i);
    }
    for (const queue::EncodedBatch& encoded : records) {
      out.push_back(text + ": " + std::to_string(encoded.samples) + " samples from " +
                    std::to_string(encoded.min_timestamp_ms) + ": " + encoded.payload);
    }
  });
  return out;
}

TEST(ShippedBatch, APreparedSeriesIsShippedByteForByteAsAddShipsIt) {
  RelabelRule drop_b;
  drop_b.source_labels = {"__name__"};
  drop_b.regex = "b_.*";
  drop_b.action = "drop";
  RelabelRule rename;
  rename.source_labels = {"job"};
  rename.regex = "(.+)";
  rename.target_label = "__name__";
  rename.replacement = "renamed_$1";
  // A remote write shipper (finished requests of 2), an HTTP JSON one (batch records), and
  // remote write ones with rules: drop a family, and rename (a name from a label).
  const auto feeds = [&] {
    std::vector<ShipperFeed> f;
    f.push_back({RelabelProgram(), 2});
    f.push_back({RelabelProgram(), std::nullopt});
    f.push_back({Program({drop_b}), 2});
    f.push_back({Program({rename}), 0});
    return f;
  };
  ShippedBatch added("node-7", {{"cluster", "c1"}}, feeds());
  ShippedBatch prepared("node-7", {{"cluster", "c1"}}, feeds());
  struct Series {
    std::string name;
    Labels labels;
  };
  // Own instance (moves to exported_instance), a global label it overrides, an invalid
  // label name, an empty value, a name that needs sanitising.
  const std::vector<Series> series = {
      {"a_total", {{"code", "200"}}},
      {"b_bytes", {{"instance", "app:9"}, {"job", "j"}}},
      {"a_total", {{"bad-name", "x"}, {"cluster", "own"}, {"empty", ""}}},
      {"1bad", {{"job", "k"}}},
  };
  std::vector<std::string> forms;
  std::vector<LabelView> views;
  for (const Series& s : series) {
    ViewLabels(s.labels, views);
    ASSERT_TRUE(prepared.Prepare(s.name, views, forms.emplace_back()));
  }
  for (int round = 0; round < 3; ++round) {  // the same forms, new values each time
    for (std::size_t i = 0; i < series.size(); ++i) {
      const double value = round * 10.0 + static_cast<double>(i);
      const std::int64_t ts = 1000 + round;
      ViewLabels(series[i].labels, views);
      added.Add("fam", "help", MetricType::kCounter, series[i].name, views, value, ts);
      prepared.AddPrepared(forms[i], "fam", "help", MetricType::kCounter, value, ts);
    }
    const std::vector<std::string> want = Records(added);
    EXPECT_EQ(Records(prepared), want) << "round " << round;
    EXPECT_EQ(want.size(), 6u);  // 2 + 1 + 2 + 1 records
  }
}

// One cycle of a steady source: the same 20 series, with new values.
void AddCycle(ShippedBatch& batch, int cycle) {
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(i);
    const std::vector<LabelView> labels = {{"n", n}};
    batch.Add("fam", "", MetricType::kCounter, "fam_total", labels, 100.0 * cycle + i,
              1000 + cycle);
  }
}

// A remote write output's run is compressed by snappy when first seen, keeps a skeleton when
// seen again, and is rebuilt from it in the third cycle; batch-record outputs count nothing.
TEST(ShippedBatch, ReportsHowItsRemoteWriteRequestsWereCompressed) {
  std::vector<ShipperFeed> feeds;
  feeds.push_back({RelabelProgram(), 100});
  feeds.push_back({RelabelProgram(), std::nullopt});
  ShippedBatch batch("node-1", {}, std::move(feeds));
  for (int cycle = 0; cycle < 3; ++cycle) {
    AddCycle(batch, cycle);
    batch.Take([](std::span<const queue::EncodedBatch>, std::span<const std::size_t>,
                  const formats::EncodeStats&) {});
  }
  const ShippedBatch::Compression compression = batch.compression();
  EXPECT_EQ(compression.runs_compressed, 2u);
  EXPECT_EQ(compression.runs_rebuilt, 1u);
  EXPECT_GT(compression.skeleton_bytes, 0u);
}

// A shipper with reuse_compression off gets an output of its own whose requests are snappy's
// own compression of the whole request, every cycle.
TEST(ShippedBatch, WithoutReuseEveryRequestIsSnappysOwnCompression) {
  std::vector<ShipperFeed> feeds;
  feeds.push_back({RelabelProgram(), 100, true});
  feeds.push_back({RelabelProgram(), 100, false});
  ShippedBatch batch("node-1", {}, std::move(feeds));
  for (int cycle = 0; cycle < 3; ++cycle) {
    AddCycle(batch, cycle);
    std::vector<std::vector<std::size_t>> shippers;
    batch.Take([&](std::span<const queue::EncodedBatch> records, std::span<const std::size_t> to,
                   const formats::EncodeStats&) {
      shippers.emplace_back(to.begin(), to.end());
      ASSERT_EQ(records.size(), 1u);
      if (to[0] != 1) {
        return;
      }
      const std::string_view body = std::string_view(records[0].payload).substr(1);
      std::string proto;
      ASSERT_TRUE(snappy::Uncompress(body.data(), body.size(), &proto));
      std::string snappys;
      snappy::Compress(proto.data(), proto.size(), &snappys);
      EXPECT_EQ(body, snappys) << "cycle " << cycle;
    });
    EXPECT_EQ(shippers, (std::vector<std::vector<std::size_t>>{{0}, {1}}));
  }
  const ShippedBatch::Compression compression = batch.compression();
  EXPECT_EQ(compression.runs_rebuilt, 1u);     // the first shipper's third cycle
  EXPECT_EQ(compression.runs_compressed, 5u);  // its first two, and all three of the second
}

// A remote write output reports with its records what the encoder changed to make their
// series valid; what a rollback took back was not shipped and is not counted.
TEST(ShippedBatch, RemoteWriteRecordsComeWithTheEncodersFixes) {
  std::vector<ShipperFeed> feeds;
  feeds.push_back({RelabelProgram(), 100});
  feeds.push_back({RelabelProgram(), std::nullopt});
  ShippedBatch batch("node-1", {}, std::move(feeds));
  const std::vector<LabelView> empty_value = {{"a", ""}, {"b", "1"}};
  auto take = [&] {
    std::vector<formats::EncodeStats> fixes;
    batch.Take([&](std::span<const queue::EncodedBatch>, std::span<const std::size_t>,
                   const formats::EncodeStats& f) { fixes.push_back(f); });
    return fixes;
  };
  batch.Add("app", "", MetricType::kGauge, "app.load", empty_value, 1, 1000);
  batch.Add("ok", "", MetricType::kGauge, "ok", {}, 1, 1000);
  std::vector<formats::EncodeStats> fixes = take();
  ASSERT_EQ(fixes.size(), 2u);
  EXPECT_EQ(fixes[0].metric_names_sanitized, 1u);  // app.load -> app_load
  EXPECT_EQ(fixes[0].empty_labels_dropped, 1u);
  EXPECT_EQ(fixes[1].metric_names_sanitized, 0u);  // batch records: their shipper encodes

  batch.Mark();
  batch.Add("app", "", MetricType::kGauge, "app.load", empty_value, 2, 2000);
  batch.Rollback();
  batch.Add("ok", "", MetricType::kGauge, "ok", {}, 2, 2000);
  fixes = take();
  ASSERT_EQ(fixes.size(), 2u);
  EXPECT_EQ(fixes[0].metric_names_sanitized, 0u);
  EXPECT_EQ(fixes[0].empty_labels_dropped, 0u);

  batch.Add("app", "", MetricType::kGauge, "app.load", empty_value, 3, 3000);
  fixes = take();
  EXPECT_EQ(fixes[0].metric_names_sanitized, 1u);  // each cycle's own, not a running total
}

}  // namespace
}  // namespace metricsd
