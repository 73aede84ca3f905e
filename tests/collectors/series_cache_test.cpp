#include "collectors/series_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace metricsd {
namespace {

// Each scrape's texts live in a body of their own, as the collector keeps them.
void Scrape(SeriesCache& cache, const std::string& body, std::size_t expect_found,
            std::string_view prepared = "p") {
  cache.BeginScrape();
  std::size_t found = 0;
  for (std::size_t at = 0; at < body.size();) {
    std::size_t end = body.find('\n', at);
    std::string_view text(body.data() + at, end - at);
    if (cache.Find(text) != nullptr) {
      ++found;
    } else {
      ASSERT_NE(cache.Insert(text, prepared), nullptr);
    }
    at = end + 1;
  }
  cache.EndScrape();
  EXPECT_EQ(found, expect_found) << body;
}

TEST(SeriesCache, EvictsWhatAScrapeDidNotSeeAndKeepsASteadyTarget) {
  SeriesCache cache(0);
  const std::string first = "a\nb\nc\n";
  Scrape(cache, first, 0);
  EXPECT_EQ(cache.size(), 3U);
  const std::string steady = "a\nb\nc\n";
  Scrape(cache, steady, 3);
  EXPECT_EQ(cache.size(), 3U);
  // As many series as before, one of them new: the one that vanished must go.
  const std::string replaced = "a\nd\nc\n";
  Scrape(cache, replaced, 2);
  EXPECT_EQ(cache.size(), 3U);
  const std::string back = "a\nb\nc\n";
  Scrape(cache, back, 2);  // b was evicted: found again only a and c
  EXPECT_EQ(cache.size(), 3U);
  const std::string fewer = "c\n";
  Scrape(cache, fewer, 1);
  EXPECT_EQ(cache.size(), 1U);
  const std::string repeated = "c\nc\n";  // a repeated line counts once
  Scrape(cache, repeated, 2);
  EXPECT_EQ(cache.size(), 1U);
}

// What /metrics reports as the cache's memory follows its entries' shipped forms: it grows
// with each new entry by at least that form and falls back when entries leave.
TEST(SeriesCache, MemoryFollowsTheShippedFormsItHolds) {
  SeriesCache cache(0);
  const std::size_t empty = cache.memory_bytes();
  const std::string prepared(1000, 'x');
  const std::string two = "a\nb\n";
  Scrape(cache, two, 0, prepared);
  const std::size_t with_two = cache.memory_bytes();
  EXPECT_GE(with_two, empty + 2 * prepared.size());
  const std::string one = "a\n";
  Scrape(cache, one, 1, prepared);
  EXPECT_LE(cache.memory_bytes(), with_two - prepared.size());
  EXPECT_GE(cache.memory_bytes(), empty + prepared.size());
  cache.Clear();
  EXPECT_LT(cache.memory_bytes(), empty + prepared.size());
}

// Clear (a failed scrape) gives the memory back, not only the entries: a target that fails
// for a long time holds nothing.
TEST(SeriesCache, ClearFreesWhatTheCacheHeld) {
  SeriesCache cache(0);
  const std::size_t empty = cache.memory_bytes();
  std::string many;
  for (int i = 0; i < 1000; ++i) {
    many += "s" + std::to_string(i) + "\n";
  }
  Scrape(cache, many, 0);
  ASSERT_GT(cache.memory_bytes(), empty);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_EQ(cache.memory_bytes(), empty);  // buckets and orders released too
}

}  // namespace
}  // namespace metricsd
