#include "collectors/series_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace metricsd {
namespace {

// Each scrape's texts live in a body of their own, as the collector keeps them.
void Scrape(SeriesCache& cache, const std::string& body, std::size_t expect_found) {
  cache.BeginScrape();
  std::size_t found = 0;
  for (std::size_t at = 0; at < body.size();) {
    std::size_t end = body.find('\n', at);
    std::string_view text(body.data() + at, end - at);
    if (cache.Find(text) != nullptr) {
      ++found;
    } else {
      ASSERT_NE(cache.Insert(text, "p"), nullptr);
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

}  // namespace
}  // namespace metricsd
