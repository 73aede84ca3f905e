#include "core/series_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
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

// A tracker that remembers each key's series, as the owners do from their previous round.
class Tracker {
 public:
  void See(const Key& k) {
    const LabelView labels[] = {{"k", k.label}};
    const std::uint64_t key = SeriesTracker::Key(k.name, labels);
    // New exactly when the tracker does not know it.
    EXPECT_EQ(tracker_.Seen(key), !names_.contains(key)) << k.name << " " << k.label;
    names_[key] = k;
  }
  std::set<Key> EndRound() {
    tracker_.EndRound(gone_);
    return Resolve();
  }
  std::set<Key> Clear() {
    tracker_.Clear(gone_);
    return Resolve();
  }
  SeriesTracker& tracker() { return tracker_; }

 private:
  std::set<Key> Resolve() {
    EXPECT_TRUE(std::is_sorted(gone_.begin(), gone_.end()));
    std::set<Key> gone;
    for (std::uint64_t key : gone_) {
      EXPECT_TRUE(names_.contains(key));
      gone.insert(names_[key]);
      names_.erase(key);  // forgotten: a new series if it comes back
    }
    return gone;
  }
  SeriesTracker tracker_;
  std::map<std::uint64_t, Key> names_;
  std::vector<std::uint64_t> gone_;
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
  EXPECT_EQ(t.Clear(), (std::set<Key>{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(t.tracker().size(), 0u);
  t.See({"a", "1"});
  EXPECT_TRUE(t.EndRound().empty());
}

TEST(SeriesTracker, SamplesAndViewsHaveTheSameKey) {
  const Sample sample{"fam_total", {{"a", "1"}, {"b", "2"}}, 1, 0};
  const LabelView labels[] = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(SeriesTracker::Key(sample), SeriesTracker::Key("fam_total", labels));
  const LabelView other[] = {{"a", "1"}, {"b", "3"}};
  EXPECT_NE(SeriesTracker::Key(sample), SeriesTracker::Key("fam_total", other));
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
