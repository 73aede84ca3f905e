#include "agent/collector_runner.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace metricsd {
namespace {

class ScriptedCollector final : public Collector {
 public:
  ScriptedCollector(std::string name, std::vector<CollectStatus> script, bool throws = false)
      : name_(std::move(name)), script_(std::move(script)), throws_(throws) {}
  std::string_view name() const override { return name_; }
  CollectResult Collect(const CollectContext& ctx) override {
    ++calls;
    if (throws_) throw std::runtime_error("boom");
    CollectStatus status = script_[std::min(calls - 1, static_cast<int>(script_.size()) - 1)];
    if (status == CollectStatus::kOk) {
      return CollectResult::Ok(
          {FamilyBuilder(name_ + "_value", "h", MetricType::kGauge, ctx.wall_ms)
               .Add(calls)
               .Build()});
    }
    if (status == CollectStatus::kTransient) return CollectResult::Transient("flaky");
    return CollectResult::NotApplicable("absent");
  }
  int calls = 0;

 private:
  std::string name_;
  std::vector<CollectStatus> script_;
  bool throws_;
};

TEST(CollectorRunner, OneFailureDoesNotStopTheOthers) {
  auto thrower = std::make_unique<ScriptedCollector>("bad", std::vector<CollectStatus>{}, true);
  auto good = std::make_unique<ScriptedCollector>("good", std::vector{CollectStatus::kOk});
  ScriptedCollector* good_ptr = good.get();
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(std::move(thrower));
  list.push_back(std::move(good));
  CollectorRunner runner(std::move(list));
  auto families = runner.RunOnce({.wall_ms = 5000});
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "good_value");
  EXPECT_EQ(good_ptr->calls, 1);
  auto health = runner.Health();
  EXPECT_EQ(health[0].state, "failing");
  EXPECT_NE(health[0].last_error.find("boom"), std::string::npos);
  EXPECT_EQ(health[1].state, "ok");
  EXPECT_EQ(health[1].last_success_ms, 5000);
}

TEST(CollectorRunner, NotApplicableIsNotCalledAgain) {
  auto absent =
      std::make_unique<ScriptedCollector>("gpu", std::vector{CollectStatus::kNotApplicable});
  ScriptedCollector* ptr = absent.get();
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(std::move(absent));
  CollectorRunner runner(std::move(list));
  for (int i = 0; i < 5; ++i) runner.RunOnce({.wall_ms = 1});
  EXPECT_EQ(ptr->calls, 1);
  EXPECT_EQ(runner.Health()[0].state, "not_applicable");
}

TEST(CollectorRunner, TransientRecoversAndCountsFailures) {
  auto flaky = std::make_unique<ScriptedCollector>(
      "net", std::vector{CollectStatus::kTransient, CollectStatus::kTransient, CollectStatus::kOk});
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(std::move(flaky));
  CollectorRunner runner(std::move(list));
  EXPECT_TRUE(runner.RunOnce({.wall_ms = 1}).empty());
  EXPECT_TRUE(runner.RunOnce({.wall_ms = 2}).empty());
  EXPECT_EQ(runner.RunOnce({.wall_ms = 3}).size(), 1u);
  auto health = runner.Health();
  EXPECT_EQ(health[0].state, "ok");
  EXPECT_EQ(health[0].failures_total, 2u);

  std::vector<MetricFamily> self;
  runner.AppendSelfMetrics(3, self);
  bool found_up = false;
  for (const MetricFamily& f : self) {
    if (f.name == "metricsd_collector_up") {
      found_up = true;
      ASSERT_EQ(f.samples.size(), 1u);
      EXPECT_EQ(f.samples[0].value, 1);
      EXPECT_EQ(f.samples[0].labels, (Labels{{"collector", "net"}}));
    }
  }
  EXPECT_TRUE(found_up);
}

}  // namespace
}  // namespace metricsd
