#include "collectors/series_cache.h"

#include <cstring>
#include <new>

#include "core/trim_slack.h"

namespace metricsd {

void SeriesCache::Free::operator()(Entry* entry) const noexcept {
  entry->~Entry();
  ::operator delete(entry);
}

void SeriesCache::BeginScrape() {
  ++scrape_;
  seen_.clear();
  cursor_ = 0;
}

void SeriesCache::Saw(Entry* entry) {
  if (entry->scrape_ != scrape_) {  // a series repeated within one body counts once
    entry->scrape_ = scrape_;
    entry->place_ = static_cast<std::uint32_t>(seen_.size());  // where the next scrape looks
    seen_.push_back(entry);
  }
}

SeriesCache::Entry* SeriesCache::Find(std::string_view text) {
  Entry* entry = nullptr;
  if (cursor_ < order_.size() && order_[cursor_]->text() == text) {
    entry = order_[cursor_++];
  } else {
    auto it = index_.find(text);
    if (it == index_.end()) {
      return nullptr;
    }
    entry = it->get();
    // Not seen yet in this scrape: `place_` is still its index in the last scrape's order.
    if (entry->scrape_ != scrape_ && entry->place_ < order_.size() &&
        order_[entry->place_] == entry) {
      cursor_ = entry->place_ + 1;  // a series vanished or moved: continue in order after it
    }
  }
  entry->text_ = text;  // the same bytes, in the body now parsed: the hash does not change
  Saw(entry);
  return entry;
}

SeriesCache::Entry* SeriesCache::Insert(std::string_view text, std::string_view prepared) {
  if (full() || index_.find(text) != index_.end()) {
    return nullptr;
  }
  void* memory = ::operator new(Footprint(prepared.size()));
  entry_bytes_ += Footprint(prepared.size());
  Owned entry(new (memory) Entry(text, prepared.size()));
  if (!prepared.empty()) {
    std::memcpy(entry.get() + 1, prepared.data(), prepared.size());
  }
  Entry* raw = entry.get();
  index_.insert(std::move(entry));
  Saw(raw);
  return raw;
}

void SeriesCache::EndScrape() {
  // Every entry that this scrape saw is in seen_ once: when that is all of them (a steady
  // target), none is evicted and the entries need not be visited.
  if (seen_.size() != index_.size()) {
    for (Entry* entry : order_) {
      if (entry->scrape_ != scrape_) {
        entry_bytes_ -= Footprint(entry->prepared_size_);
        index_.erase(index_.find(entry->text()));
      }
    }
  }
  order_.swap(seen_);
  TrimSlack(order_);
  TrimSlack(seen_);  // the order before: about as long as the next one
  seen_.clear();
  cursor_ = 0;
}

void SeriesCache::Clear() {
  // Released, not only emptied: a target that fails may not come back soon.
  std::vector<Entry*>().swap(order_);
  std::vector<Entry*>().swap(seen_);
  cursor_ = 0;
  decltype(index_)().swap(index_);
  entry_bytes_ = 0;
}

std::size_t SeriesCache::memory_bytes() const noexcept {
  // A node of the index: its link, the owning pointer and the cached hash, in a heap chunk
  // of (about) four words.
  constexpr std::size_t kNodeBytes = 4 * sizeof(void*);
  return entry_bytes_ + index_.bucket_count() * sizeof(void*) + index_.size() * kNodeBytes +
         (order_.capacity() + seen_.capacity()) * sizeof(Entry*);
}

}  // namespace metricsd
