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

// Writes `families` families named <name>_<i> with FamilyWriter, and remembers what it got
// back to write over.
class RecyclingCollector final : public Collector {
 public:
  RecyclingCollector(std::string name, int families) : name_(std::move(name)), count_(families) {}
  std::string_view name() const override { return name_; }
  CollectResult Collect(const CollectContext& ctx) override {
    CollectResult result;
    CollectInto(ctx, result);
    return result;
  }
  void CollectInto(const CollectContext& ctx, CollectResult& result) override {
    handed_back.clear();
    for (const MetricFamily& family : result.families) {
      handed_back.push_back(family.name);
    }
    FamilyWriter out(result.families, ctx.wall_ms);
    for (int i = 0; i < count_; ++i) {
      out.Family(name_ + "_" + std::to_string(i), "h", MetricType::kGauge)
          .Add(static_cast<double>(ctx.wall_ms));
    }
  }
  std::vector<std::string> handed_back;

 private:
  std::string name_;
  int count_;
};

TEST(CollectorRunner, EachCollectorGetsBackTheFamiliesItWrote) {
  auto a = std::make_unique<RecyclingCollector>("a", 2);
  auto flaky = std::make_unique<ScriptedCollector>(
      "flaky", std::vector{CollectStatus::kOk, CollectStatus::kTransient, CollectStatus::kOk});
  auto b = std::make_unique<RecyclingCollector>("b", 1);
  RecyclingCollector* a_ptr = a.get();
  RecyclingCollector* b_ptr = b.get();
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(std::move(a));
  list.push_back(std::move(flaky));
  list.push_back(std::move(b));
  CollectorRunner runner(std::move(list));

  CollectorRunner::Output output;
  runner.RunOnce({.wall_ms = 1}, output);
  EXPECT_TRUE(a_ptr->handed_back.empty());
  ASSERT_EQ(output.families.size(), 4u);  // a_0, a_1, flaky_value, b_0
  const Sample* a1_storage = output.families[1].samples.data();

  runner.RunOnce({.wall_ms = 2}, output);  // flaky fails: no families from it
  EXPECT_EQ(a_ptr->handed_back, (std::vector<std::string>{"a_0", "a_1"}));
  EXPECT_EQ(b_ptr->handed_back, (std::vector<std::string>{"b_0"}));
  ASSERT_EQ(output.families.size(), 3u);
  EXPECT_EQ(output.families[1].name, "a_1");
  EXPECT_EQ(output.families[1].samples.data(), a1_storage);  // written in place
  EXPECT_EQ(output.families[1].samples[0].value, 2);
  EXPECT_EQ(output.families[2].name, "b_0");

  runner.RunOnce({.wall_ms = 3}, output);
  EXPECT_EQ(b_ptr->handed_back, (std::vector<std::string>{"b_0"}));
  ASSERT_EQ(output.families.size(), 4u);
  EXPECT_EQ(output.families[2].name, "flaky_value");
  EXPECT_EQ(output.families[3].samples[0].value, 3);
}

TEST(CollectorRunner, StorageOfAnotherShapeIsNotHandedOut) {
  auto a = std::make_unique<RecyclingCollector>("a", 1);
  RecyclingCollector* a_ptr = a.get();
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(std::move(a));
  CollectorRunner runner(std::move(list));
  CollectorRunner::Output output;
  output.families.push_back(FamilyBuilder("other", "h", MetricType::kGauge, 0).Add(1).Build());
  runner.RunOnce({.wall_ms = 1}, output);
  EXPECT_TRUE(a_ptr->handed_back.empty());
  ASSERT_EQ(output.families.size(), 1u);
  EXPECT_EQ(output.families[0].name, "a_0");
  EXPECT_EQ(output.counts, (std::vector<std::size_t>{1}));
}

}  // namespace
}  // namespace metricsd
