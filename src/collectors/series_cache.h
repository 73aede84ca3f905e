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
// that followed it. An entry not seen in a scrape is evicted when the scrape ends (its
// staleness marker comes from the target's SeriesTracker); the size is bounded by
// `max_entries`, the target's sample limit.
//
// The keys are not copied: an entry's text is a view into the body it was last found in,
// and each scrape moves it to the new body as it finds it there. So the owner keeps the body
// of the last scrape alive until the next one has ended, and calls Clear() whenever it does
// not keep the body just parsed (a failed scrape). An entry is one allocation: a small
// header, then the shipped form.
//
// Not thread-safe: the scrape thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace metricsd {

class SeriesCache {
 public:
  class Entry {
   public:
    bool dropped = false;          // metric relabeling drops the series
    std::uint64_t series_key = 0;  // SeriesTracker::Key of the labelled series
    std::string_view text() const noexcept { return text_; }
    // The sink's prepared form, stored right after the header.
    std::string_view prepared() const noexcept {
      return {reinterpret_cast<const char*>(this + 1), prepared_size_};
    }

   private:
    friend class SeriesCache;
    Entry(std::string_view text, std::size_t prepared_size)
        : text_(text), prepared_size_(static_cast<std::uint32_t>(prepared_size)) {}
    std::string_view text_;     // in the body the series was last found in
    std::uint64_t scrape_ = 0;  // the last scrape that saw it
    std::uint32_t place_ = 0;   // its index in the order of the last scrape that saw it
    std::uint32_t prepared_size_ = 0;
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
  // The entry for `text`, counted as seen in this scrape; null when there is none. The entry
  // now refers to `text`.
  Entry* Find(std::string_view text);
  // A new entry for `text` (not in the cache) with the sink's prepared form, seen in this
  // scrape; null when the cache is full, and the series then goes the uncached way.
  Entry* Insert(std::string_view text, std::string_view prepared);
  // Evicts the entries this scrape did not see.
  void EndScrape();
  // Forgets every entry (the body their texts point into is going away) and frees their memory.
  void Clear();

  std::size_t size() const noexcept { return index_.size(); }
  // About what the cache holds on the heap: its entries, the index's buckets and nodes and
  // the two orders (allocator overhead estimated). The body its keys point into is not
  // counted: its owner keeps that.
  std::size_t memory_bytes() const noexcept;
  bool full() const noexcept { return max_entries_ != 0 && index_.size() >= max_entries_; }

 private:
  struct Free {
    void operator()(Entry* entry) const noexcept;
  };
  using Owned = std::unique_ptr<Entry, Free>;
  // Looked up by text (heterogeneous lookup: no key copies, no temporaries).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
    std::size_t operator()(const Owned& entry) const noexcept { return (*this)(entry->text()); }
  };
  struct TextEqual {
    using is_transparent = void;
    static std::string_view Text(std::string_view text) noexcept { return text; }
    static std::string_view Text(const Owned& entry) noexcept { return entry->text(); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const noexcept {
      return Text(a) == Text(b);
    }
  };

  void Saw(Entry* entry);
  // An entry's one allocation: the header, then the prepared form.
  static std::size_t Footprint(std::size_t prepared_size) noexcept {
    return sizeof(Entry) + prepared_size;
  }

  const std::size_t max_entries_;
  std::unordered_set<Owned, TextHash, TextEqual> index_;
  std::vector<Entry*> order_;  // the last scrape's entries, in its order
  std::vector<Entry*> seen_;   // this scrape's
  std::size_t cursor_ = 0;     // where in order_ the next series is expected
  std::uint64_t scrape_ = 0;
  std::size_t entry_bytes_ = 0;  // the entries' own allocations
};

}  // namespace metricsd
