#include "core/series_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace metricsd {
namespace {

// One series as the tests write it: name plus one label pair.
struct Key {
  std::string name;
  std::string label;
  friend auto operator<=>(const Key&, const Key&) = default;
};

class Tracker {
 public:
  void See(const Key& k) {
    const LabelView labels[] = {{"k", k.label}};
    tracker_.Seen("fam", MetricType::kGauge, k.name, labels);
  }
  std::set<Key> EndRound() {
    std::set<Key> gone;
    tracker_.EndRound([&](const SeriesTracker::Gone& g) {
      EXPECT_EQ(g.family, "fam");
      EXPECT_EQ(g.labels.size(), 1u);
      gone.insert(Key{std::string(g.name), std::string(g.labels[0].value)});
    });
    return gone;
  }
  SeriesTracker& tracker() { return tracker_; }

 private:
  SeriesTracker tracker_;
};

TEST(SeriesTracker, ASeriesMissingFromARoundIsReportedOnceWithItsLabels) {
  Tracker t;
  t.See({"a", "1"});
  t.See({"b", "2"});
  EXPECT_TRUE(t.EndRound().empty());
  t.See({"a", "1"});
  EXPECT_EQ(t.EndRound(), (std::set<Key>{{"b", "2"}}));
  t.See({"a", "1"});
  EXPECT_TRUE(t.EndRound().empty());  // forgotten once reported
  EXPECT_EQ(t.tracker().size(), 1u);
}

TEST(SeriesTracker, LabelValuesAndStringBoundariesTellSeriesApart) {
  Tracker t;
  t.See({"ab", "c"});
  EXPECT_TRUE(t.EndRound().empty());
  t.See({"a", "bc"});  // the same bytes, split differently
  t.See({"ab", "d"});
  EXPECT_EQ(t.EndRound(), (std::set<Key>{{"ab", "c"}}));
  EXPECT_EQ(t.tracker().size(), 2u);
}

TEST(SeriesTracker, ARepeatedSeriesCountsOnceAndClearReportsEverything) {
  Tracker t;
  t.See({"a", "1"});
  t.See({"a", "1"});
  t.See({"b", "1"});
  EXPECT_TRUE(t.EndRound().empty());
  EXPECT_EQ(t.tracker().size(), 2u);
  std::set<Key> cleared;
  t.tracker().Clear([&](const SeriesTracker::Gone& g) {
    cleared.insert(Key{std::string(g.name), std::string(g.labels[0].value)});
  });
  EXPECT_EQ(cleared, (std::set<Key>{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(t.tracker().size(), 0u);
  t.See({"a", "1"});
  EXPECT_TRUE(t.EndRound().empty());
}

TEST(SeriesTracker, FamiliesAndViewsNameTheSameSeries) {
  SeriesTracker tracker;
  MetricFamily family{"fam", "", MetricType::kCounter, {}};
  family.samples.push_back(Sample{"fam_total", {{"a", "1"}, {"b", "2"}}, 1, 0});
  tracker.Seen(family, family.samples[0]);
  EXPECT_EQ(tracker.EndRound([](const SeriesTracker::Gone&) {}), 0u);
  const LabelView labels[] = {{"a", "1"}, {"b", "2"}};
  tracker.Seen("fam", MetricType::kCounter, "fam_total", labels);
  EXPECT_EQ(tracker.EndRound([](const SeriesTracker::Gone&) { ADD_FAILURE(); }), 0u);
  EXPECT_EQ(tracker.size(), 1u);
}

// Random rounds (series coming and going, order shuffled, repeats) against a plain set: the
// reported series are exactly last round's minus this round's.
TEST(SeriesTracker, RandomChurnReportsExactlyTheSetDifference) {
  std::mt19937 rng(20261202);
  Tracker t;
  std::set<Key> last;
  for (int round = 0; round < 300; ++round) {
    std::vector<Key> now;
    const int n = static_cast<int>(rng() % 200);
    const bool shuffle = rng() % 3 == 0;
    for (int i = 0; i < n; ++i) {
      // A narrow id range: most series come back, some vanish, some are new.
      now.push_back(Key{"s" + std::to_string(rng() % 250), std::to_string(rng() % 2)});
    }
    if (!shuffle) {
      std::sort(now.begin(), now.end());  // steady order, as targets usually expose
    }
    std::set<Key> current(now.begin(), now.end());
    for (const Key& k : now) {
      t.See(k);
    }
    std::set<Key> expected;
    std::set_difference(last.begin(), last.end(), current.begin(), current.end(),
                        std::inserter(expected, expected.end()));
    ASSERT_EQ(t.EndRound(), expected) << "round " << round;
    ASSERT_EQ(t.tracker().size(), current.size()) << "round " << round;
    last = std::move(current);
  }
}

}  // namespace
}  // namespace metricsd
