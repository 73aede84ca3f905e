#include "agent/exposition_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <map>
#include <string>
#include <vector>

#include "formats/prometheus_text_writer.h"
#include "support/gunzip.h"

namespace metricsd {
namespace {

MetricFamily Gauge(std::string name, double value, std::string job = "") {
  Labels labels;
  if (!job.empty()) {
    labels.push_back(Label{"job", job});
  }
  return FamilyBuilder(std::move(name), "help text", MetricType::kGauge, 0)
      .Add(value, labels)
      .Build();
}

// The text's blocks by family name (from its HELP or TYPE line to the next family); fails
// the test when a name has two blocks.
std::map<std::string, std::string> Blocks(const std::string& text) {
  std::map<std::string, std::string> blocks;
  std::string current;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol - pos + 1);
    pos = eol + 1;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      if (name != current) {
        EXPECT_FALSE(blocks.contains(name)) << "family twice: " << name;
        current = name;
      }
    }
    blocks[current] += line;
  }
  return blocks;
}

using testing::Gunzip;

std::string Join(const MetricsBody& body) {
  std::string all;
  for (const auto& piece : body.pieces) {
    all += *piece;
  }
  return all;
}

class ExpositionCacheTest : public ::testing::Test {
 protected:
  std::vector<MetricFamily> self_ = {Gauge("metricsd_collection_cycles_total", 3),
                                     Gauge("process_open_fds", 9)};
  std::vector<MetricFamily> system_ = {Gauge("system_load1", 0.5), Gauge("system_cpu", 2)};
  // A scraped Go program has process_* of its own; the names are merged with ours.
  std::vector<MetricFamily> stored_ = {Gauge("app_requests", 7, "app"),
                                       Gauge("process_open_fds", 40, "app")};
  std::vector<MetricFamily> scraped_ = {Gauge("json_value", 1, "json")};
  RawDeflater deflater_;

  std::string FullRender() const {
    const std::span<const MetricFamily> parts[] = {self_, system_, stored_, scraped_};
    std::string out;
    AppendPrometheusText(parts, out);
    return out;
  }
};

TEST_F(ExpositionCacheTest, TheBodyHasTheFamiliesOfAFullRenderEachOnce) {
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  const std::span<const MetricFamily> scr[] = {stored_, scraped_};
  auto scrape = ExpositionPart::Build(scr, nullptr, system.get());
  auto body = AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, nullptr);
  ASSERT_TRUE(body);
  EXPECT_FALSE(body->gzip);
  EXPECT_EQ(Blocks(Join(*body)), Blocks(FullRender()));
  EXPECT_THAT(Join(*body), ::testing::HasSubstr("process_open_fds{job=\"app\"} 40\n"));
  // The big parts are the prepared buffers themselves, not copies.
  ASSERT_EQ(body->pieces.size(), 3u);
  EXPECT_EQ(body->pieces[1], system->text());
  EXPECT_EQ(body->pieces[2], scrape->text());
}

TEST_F(ExpositionCacheTest, SelfMetricsChangeBetweenRequestsWithoutANewCycle) {
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  auto first = AssembleMetrics(self_, {.system = system.get(), .scrape = nullptr}, nullptr);
  self_[0] = Gauge("metricsd_collection_cycles_total", 4);
  auto second = AssembleMetrics(self_, {.system = system.get(), .scrape = nullptr}, nullptr);
  ASSERT_TRUE(first && second);
  EXPECT_THAT(Join(*first), ::testing::HasSubstr("metricsd_collection_cycles_total 3\n"));
  EXPECT_THAT(Join(*second), ::testing::HasSubstr("metricsd_collection_cycles_total 4\n"));
  EXPECT_EQ(first->pieces[1], second->pieces[1]);
}

TEST_F(ExpositionCacheTest, GzipIsOneMemberThatDecodesToTheIdentityBody) {
  for (int i = 0; i < 500; ++i) {
    system_.push_back(Gauge("system_metric_" + std::to_string(i), i));
  }
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  const std::span<const MetricFamily> scr[] = {stored_, scraped_};
  auto scrape = ExpositionPart::Build(scr, nullptr, system.get());
  auto plain = AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, nullptr);
  auto gzipped =
      AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, &deflater_);
  ASSERT_TRUE(plain && gzipped);
  EXPECT_TRUE(gzipped->gzip);
  EXPECT_EQ(Gunzip(Join(*gzipped)), Join(*plain));
  EXPECT_LT(Join(*gzipped).size(), Join(*plain).size() / 3);
  auto again = AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, &deflater_);
  EXPECT_EQ(again->pieces[1], gzipped->pieces[1]);  // cached, not recompressed
  EXPECT_EQ(again->pieces[1], system->deflated(deflater_).bytes);
}

TEST_F(ExpositionCacheTest, ANameInBothPartsNeedsAFullRender) {
  stored_.push_back(Gauge("system_load1", 9, "other"));
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  const std::span<const MetricFamily> scr[] = {stored_, scraped_};
  auto scrape = ExpositionPart::Build(scr, nullptr, system.get());
  EXPECT_FALSE(AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, nullptr));
}

TEST_F(ExpositionCacheTest, PartsBuiltInTurnStayKnownDisjoint) {
  const std::span<const MetricFamily> sys[] = {system_};
  const std::span<const MetricFamily> scr[] = {stored_, scraped_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  auto scrape = ExpositionPart::Build(scr, nullptr, system.get());
  for (int cycle = 0; cycle < 3; ++cycle) {
    system_[0] = Gauge("system_load1", cycle);
    system = ExpositionPart::Build(sys, system.get(), scrape.get());
    ASSERT_TRUE(AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, nullptr));
    scrape = ExpositionPart::Build(scr, scrape.get(), system.get());
    ASSERT_TRUE(AssembleMetrics(self_, {.system = system.get(), .scrape = scrape.get()}, nullptr));
  }
}

TEST_F(ExpositionCacheTest, TheSelfPartIsServedPreparedAndMergesWithNothing) {
  std::vector<MetricFamily> cycle = {Gauge("metricsd_collector_up", 1),
                                     Gauge("metricsd_collection_duration_seconds", 0.002)};
  auto self = ExpositionPart::BuildSelf(cycle, nullptr);
  EXPECT_TRUE(self->per_request().empty());
  EXPECT_TRUE(self->Declares("metricsd_collector_up"));
  EXPECT_FALSE(self->Declares("metricsd_collector"));
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  const std::span<const MetricFamily> scr[] = {stored_, scraped_};
  auto scrape = ExpositionPart::Build(scr, nullptr, system.get());
  const PreparedParts parts{.self = self.get(), .system = system.get(), .scrape = scrape.get()};
  auto plain = AssembleMetrics(self_, parts, nullptr);
  ASSERT_TRUE(plain);
  const std::span<const MetricFamily> all[] = {self_, cycle, system_, stored_, scraped_};
  std::string full;
  AppendPrometheusText(all, full);
  EXPECT_EQ(Blocks(Join(*plain)), Blocks(full));
  ASSERT_EQ(plain->pieces.size(), 4u);
  EXPECT_EQ(plain->pieces[1], self->text());
  auto gzipped = AssembleMetrics(self_, parts, &deflater_);
  ASSERT_TRUE(gzipped);
  EXPECT_EQ(Gunzip(Join(*gzipped)), Join(*plain));

  // A scraped metricsd's family of the same name cannot be merged into prepared text.
  stored_.push_back(Gauge("metricsd_collector_up", 0, "other-metricsd"));
  const std::span<const MetricFamily> scr_other[] = {stored_, scraped_};
  auto other = ExpositionPart::Build(scr_other, nullptr, system.get());
  EXPECT_FALSE(AssembleMetrics(
      self_, {.self = self.get(), .system = system.get(), .scrape = other.get()}, nullptr));
  // Renewing the self part with the same names lends them on.
  auto renewed = ExpositionPart::BuildSelf(cycle, self.get());
  EXPECT_EQ(Join(*AssembleMetrics(self_, {.self = renewed.get()}, nullptr)),
            Join(*AssembleMetrics(self_, {.self = self.get()}, nullptr)));
}

TEST_F(ExpositionCacheTest, RequestTextOfAnySizeDecodesFromTheGzipBody) {
  const std::span<const MetricFamily> sys[] = {system_};
  auto system = ExpositionPart::Build(sys, nullptr, nullptr);
  // Empty, a few bytes (stored blocks), over 64 KiB (deflated).
  for (int families : {0, 1, 3000}) {
    std::vector<MetricFamily> now;
    for (int i = 0; i < families; ++i) {
      now.push_back(Gauge("process_x_" + std::to_string(i), i));
    }
    auto plain = AssembleMetrics(now, {.system = system.get()}, nullptr);
    auto gzipped = AssembleMetrics(now, {.system = system.get()}, &deflater_);
    ASSERT_TRUE(plain && gzipped);
    EXPECT_EQ(Gunzip(Join(*gzipped)), Join(*plain)) << families << " families";
  }
}

}  // namespace
}  // namespace metricsd
