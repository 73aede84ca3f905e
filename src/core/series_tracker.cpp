#include "core/series_tracker.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "core/trim_slack.h"

namespace metricsd {

namespace {

// One running 64-bit hash over every string of a series, 8 bytes at a time: hashing each
// string separately and combining (std::hash per label name and value) cost a third of a
// 50,000-series scrape's parse-and-queue time. Each string's length is folded into its last
// word, so "ab","c" and "a","bc" differ. Good spread is all it needs: a collision would
// only cost one missing staleness marker.
class SeriesHash {
 public:
  void Add(std::string_view text) {
    const char* p = text.data();
    std::size_t n = text.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      Round(word);
    }
    std::uint64_t last = static_cast<std::uint64_t>(text.size()) << 56;
    for (std::size_t i = 0; i < n; ++i) {
      last ^= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
    Round(last);
  }
  std::uint64_t Finish() const {
    // splitmix64's finaliser: every input bit reaches every output bit.
    std::uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  void Round(std::uint64_t word) { h_ = std::rotl(h_ ^ (word * 0x9e3779b97f4a7c15ULL), 31) * 5; }

  std::uint64_t h_ = 0x2545f4914f6cdd1dULL;
};

}  // namespace

std::uint64_t SeriesTracker::Key(std::string_view name, std::span<const LabelView> labels) {
  SeriesHash hash;
  hash.Add(name);
  for (const LabelView& label : labels) {
    hash.Add(label.name);
    hash.Add(label.value);
  }
  return hash.Finish();
}

std::uint64_t SeriesTracker::Key(const Sample& sample) {
  SeriesHash hash;
  hash.Add(sample.name);
  for (const Label& label : sample.labels) {
    hash.Add(label.name);
    hash.Add(label.value);
  }
  return hash.Finish();
}

bool SeriesTracker::Seen(std::uint64_t key) {
  std::uint32_t at = 0;
  bool added = false;
  if (cursor_ < order_.size() && entries_[order_[cursor_]].key == key) {
    at = order_[cursor_++];  // in last round's order: the usual case
  } else {
    auto [it, inserted] = index_.try_emplace(key, static_cast<std::uint32_t>(entries_.size()));
    at = it->second;
    added = inserted;
    if (added) {
      entries_.push_back(Entry{.key = key});
    } else if (const Entry& e = entries_[at];
               e.round + 1 == round_ && e.seen_at < order_.size() && order_[e.seen_at] == at) {
      cursor_ = e.seen_at + 1;  // back in step after a series came and went
    }
  }
  Entry& entry = entries_[at];
  if (entry.round != round_) {  // a series repeated within a round counts once
    entry.round = round_;
    entry.seen_at = static_cast<std::uint32_t>(seen_.size());
    seen_.push_back(at);
  }
  return added;
}

void SeriesTracker::EndRound(std::vector<std::uint64_t>& gone) {
  gone.clear();
  if (seen_.size() != entries_.size()) {
    // Drop the entries this round did not see, keeping the others' order.
    std::vector<std::uint32_t> moved_to(entries_.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].round != round_) {
        gone.push_back(entries_[i].key);
        index_.erase(entries_[i].key);
        continue;
      }
      moved_to[i] = static_cast<std::uint32_t>(kept);
      if (kept != i) {
        entries_[kept] = entries_[i];
        index_[entries_[kept].key] = static_cast<std::uint32_t>(kept);
      }
      ++kept;
    }
    entries_.resize(kept);
    for (std::uint32_t& i : seen_) {
      i = moved_to[i];
    }
    std::sort(gone.begin(), gone.end());
  }
  order_.swap(seen_);
  TrimSlack(entries_);
  TrimSlack(order_);
  TrimSlack(seen_);
  StartRound();
}

void SeriesTracker::Clear(std::vector<std::uint64_t>& gone) {
  gone.clear();
  for (const Entry& e : entries_) {
    gone.push_back(e.key);
  }
  std::sort(gone.begin(), gone.end());
  entries_.clear();
  index_.clear();
  order_.clear();
  StartRound();
}

void SeriesTracker::StartRound() {
  seen_.clear();
  cursor_ = 0;
  ++round_;
}

}  // namespace metricsd
