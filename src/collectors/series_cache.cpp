#include "collectors/series_cache.h"

namespace metricsd {

void SeriesCache::BeginScrape() {
  ++scrape_;
  seen_.clear();
  cursor_ = 0;
}

void SeriesCache::Saw(Entry* entry) {
  if (entry->scrape != scrape_) {  // a series repeated within one body counts once
    entry->scrape = scrape_;
    entry->place = seen_.size();  // in the order the next scrape expects
    seen_.push_back(entry);
  }
}

SeriesCache::Entry* SeriesCache::Find(std::string_view text) {
  if (cursor_ < order_.size() && order_[cursor_]->text() == text) {
    Entry* entry = order_[cursor_++];
    Saw(entry);
    return entry;
  }
  auto it = index_.find(text);
  if (it == index_.end()) {
    return nullptr;
  }
  Entry* entry = it->second.get();
  // Not seen yet in this scrape: `place` is still its index in the last scrape's order.
  if (entry->scrape != scrape_ && entry->place < order_.size() && order_[entry->place] == entry) {
    cursor_ = entry->place + 1;  // a series vanished or moved: continue in order after it
  }
  Saw(entry);
  return entry;
}

SeriesCache::Entry* SeriesCache::Insert(std::string_view text, std::string_view prepared) {
  if (full()) {
    return nullptr;
  }
  auto entry = std::make_unique<Entry>();
  // One allocation for both, complete before the index takes a view of the key.
  entry->data.reserve(text.size() + prepared.size());
  entry->data.append(text).append(prepared);
  entry->key_size = static_cast<std::uint32_t>(text.size());
  Entry* raw = entry.get();
  index_.emplace(raw->text(), std::move(entry));
  Saw(raw);
  return raw;
}

void SeriesCache::EndScrape() {
  for (Entry* entry : order_) {
    if (entry->scrape != scrape_) {
      index_.erase(entry->text());
    }
  }
  order_.swap(seen_);
  seen_.clear();
  cursor_ = 0;
}

}  // namespace metricsd
