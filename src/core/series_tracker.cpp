#include "core/series_tracker.h"

#include <bit>
#include <cstring>

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

bool SeriesTracker::Touch(std::uint64_t key) {
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
      data_.emplace_back();
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

void SeriesTracker::Seen(std::string_view family, MetricType type, std::string_view name,
                         std::span<const LabelView> labels) {
  SeriesHash hash;
  hash.Add(name);
  for (const LabelView& label : labels) {
    hash.Add(label.name);
    hash.Add(label.value);
  }
  if (Touch(hash.Finish())) {
    Series& s = data_.back();
    s.family.assign(family);
    s.type = type;
    s.name.assign(name);
    s.labels.reserve(labels.size());
    for (const LabelView& label : labels) {
      s.labels.push_back(Label{std::string(label.name), std::string(label.value)});
    }
  }
}

void SeriesTracker::Seen(const MetricFamily& family, const Sample& sample) {
  SeriesHash hash;
  hash.Add(sample.name);
  for (const Label& label : sample.labels) {
    hash.Add(label.name);
    hash.Add(label.value);
  }
  if (Touch(hash.Finish())) {
    data_.back() = Series{family.name, family.type, sample.name, sample.labels};
  }
}

}  // namespace metricsd
