// SeriesCache: one scrape target's series as last scraped, keyed by the series text of the
// body (the name and label block as written), so that a series seen before costs a key
// comparison: its relabeling verdict, staleness key and shipped form (ScrapeSampleSink::
// Prepare) are kept from its first scrape, and only its value is new.
//
// Entries are what a pure function of the text gives: the target's labels, metric and write
// relabeling rules and the shippers do not change during the cache's life (a reload builds
// new collectors and a new cache). A body lists its series in the same order scrape after
// scrape, so each lookup first compares the entry at the same place in the last scrape's
// order; only a series out of that order is hashed, and the next lookup expects the series
// that followed it. An entry not seen in a scrape is evicted
// when the scrape ends (its staleness marker comes from the target's SeriesTracker); the
// size is bounded by `max_entries`, the target's sample limit.
//
// Not thread-safe: the scrape thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/scrape_source.h"

namespace metricsd {

class SeriesCache {
 public:
  struct Entry {
    std::string data;  // the key (the series text), then the sink's prepared form
    std::uint32_t key_size = 0;
    bool dropped = false;          // metric relabeling drops the series
    std::uint64_t series_key = 0;  // SeriesTracker::Key of the labelled series
    std::uint64_t scrape = 0;      // the last scrape that saw it
    std::size_t place = 0;         // its index in the order of the last scrape that saw it
    std::string_view text() const noexcept { return std::string_view(data).substr(0, key_size); }
    std::string_view prepared() const noexcept { return std::string_view(data).substr(key_size); }
  };

  // 0: no bound beyond the bodies themselves.
  explicit SeriesCache(std::size_t max_entries) : max_entries_(max_entries) {}

  // Every BeginScrape is followed by one EndScrape.
  void BeginScrape();
  // The text of the series expected next: the one after the last found, in the last
  // scrape's order (empty at its end).
  std::string_view Expected() const noexcept {
    return cursor_ < order_.size() ? order_[cursor_]->text() : std::string_view();
  }
  // The entry for `text`, counted as seen in this scrape; null when there is none.
  Entry* Find(std::string_view text);
  // A new entry for `text` (not in the cache) with the sink's prepared form, seen in this
  // scrape; null when the cache is full, and the series then goes the uncached way.
  Entry* Insert(std::string_view text, std::string_view prepared);
  // Evicts the entries this scrape did not see.
  void EndScrape();

  std::size_t size() const noexcept { return index_.size(); }
  bool full() const noexcept { return max_entries_ != 0 && index_.size() >= max_entries_; }

 private:
  void Saw(Entry* entry);

  const std::size_t max_entries_;
  std::unordered_map<std::string_view, std::unique_ptr<Entry>> index_;  // keys: Entry::text()
  std::vector<Entry*> order_;  // the last scrape's entries, in its order
  std::vector<Entry*> seen_;   // this scrape's
  std::size_t cursor_ = 0;     // where in order_ the next series is expected
  std::uint64_t scrape_ = 0;
};

}  // namespace metricsd
