#include "formats/remote_write_encoder.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/varint.h"

namespace metricsd::formats {
namespace {

constexpr std::string_view kNameLabel = "__name__";

// Protobuf tags: (field << 3) | wire type.
constexpr char kTagTimeSeries = 0x0a;  // WriteRequest.timeseries = 1, length-delimited
constexpr char kTagLabel = 0x0a;       // TimeSeries.labels = 1
constexpr char kTagSample = 0x12;      // TimeSeries.samples = 2
constexpr char kTagLabelName = 0x0a;   // Label.name = 1
constexpr char kTagLabelValue = 0x12;  // Label.value = 2
constexpr char kTagValue = 0x09;       // Sample.value = 1, fixed64
constexpr char kTagTimestamp = 0x10;   // Sample.timestamp = 2, varint

// The caller reserves kSlack bytes past the message, so strings up to 16 bytes (most label
// names and values) are copied with two possibly overlapping 8-byte moves, not a memcpy call.
constexpr std::size_t kSlack = 16;

inline char* PutBytesField(char* p, char tag, std::string_view bytes) noexcept {
  *p++ = tag;
  p = PutVarint(p, bytes.size());
  const std::size_t n = bytes.size();
  const char* s = bytes.data();
  if (n >= 8 && n <= 16) {
    std::memcpy(p, s, 8);
    std::memcpy(p + n - 8, s + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(p, s, 4);
    std::memcpy(p + n - 4, s + n - 4, 4);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) {
      p[i] = s[i];
    }
  } else {
    std::memcpy(p, s, n);
  }
  return p + n;
}

constexpr std::size_t BytesFieldSize(std::size_t len) noexcept { return 1 + VarintSize(len) + len; }

}  // namespace

void RemoteWriteEncoder::BuildLabels(std::string_view name, std::span<const LabelView> in,
                                     EncodeStats& stats) {
  labels_.clear();
  // Within one Encode call every string is alive, so the same address and size means the
  // same bytes: names checked on an earlier sample need no second check (views decoded
  // from the queue point every repeat of a string at one place).
  // An empty name is never "checked": two empty views may both be null.
  const bool name_checked =
      !name.empty() && name.data() == valid_name_.data() && name.size() == valid_name_.size();
  if (!name_checked) {
    if (IsValidMetricName(name)) {
      valid_name_ = name;
    } else {
      name_scratch_.assign(name);
      SanitizeMetricName(name_scratch_);
      name = name_scratch_;
      ++stats.metric_names_sanitized;
    }
  }

  // Fast path: the model promises sorted, unique labels; check the rest of the rules
  // without copying anything.
  bool names_checked = in.size() == valid_label_names_.size();
  for (std::size_t i = 0; i < in.size() && names_checked; ++i) {
    const std::string_view n = in[i].name;
    names_checked =
        n.data() == valid_label_names_[i].data() && n.size() == valid_label_names_[i].size();
  }
  bool fast = true;
  for (std::size_t i = 0; i < in.size() && fast; ++i) {
    const LabelView& l = in[i];
    fast =
        !l.value.empty() && (names_checked || (l.name != kNameLabel && IsValidLabelName(l.name) &&
                                               (i == 0 || in[i - 1].name < l.name)));
  }
  if (fast && !names_checked) {
    valid_label_names_.clear();
    for (const LabelView& l : in) {
      valid_label_names_.push_back(l.name);
    }
  }
  if (fast) {
    bool name_placed = false;
    for (const LabelView& l : in) {
      if (!name_placed && kNameLabel < std::string_view(l.name)) {
        labels_.push_back({kNameLabel, name});
        name_placed = true;
      }
      labels_.push_back({l.name, l.value});
    }
    if (!name_placed) {
      labels_.push_back({kNameLabel, name});
    }
    return;
  }

  // Slow path: copy into reused storage (string assign keeps capacity), fix, sort, dedupe.
  if (scratch_.size() < in.size()) {
    scratch_.resize(in.size());
  }
  order_.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    const LabelView& l = in[i];
    if (l.value.empty()) {
      ++stats.empty_labels_dropped;
      continue;
    }
    if (l.name == kNameLabel) {
      ++stats.duplicate_labels_dropped;  // the sample name is the metric name
      continue;
    }
    Label& copy = scratch_[i];
    copy.name.assign(l.name);
    copy.value.assign(l.value);
    if (SanitizeLabelName(copy.name)) {
      ++stats.label_names_sanitized;
    }
    if (copy.name == kNameLabel) {  // "__name__" can only appear here by sanitising
      ++stats.duplicate_labels_dropped;
      continue;
    }
    order_.push_back(i);
  }
  std::stable_sort(order_.begin(), order_.end(), [this](std::size_t a, std::size_t b) {
    return scratch_[a].name < scratch_[b].name;
  });
  bool name_placed = false;
  for (std::size_t k = 0; k < order_.size(); ++k) {
    const Label& l = scratch_[order_[k]];
    if (k + 1 < order_.size() && scratch_[order_[k + 1]].name == l.name) {
      ++stats.duplicate_labels_dropped;  // keep the last of equal names, as SortLabels does
      continue;
    }
    if (!name_placed && kNameLabel < std::string_view(l.name)) {
      labels_.push_back({kNameLabel, name});
      name_placed = true;
    }
    labels_.push_back({l.name, l.value});
  }
  if (!name_placed) {
    labels_.push_back({kNameLabel, name});
  }
}

namespace {

// The wire bits of a sample value: NaNs other than the staleness marker become the one
// normal NaN.
std::uint64_t ValueBits(double value, EncodeStats& stats) noexcept {
  std::uint64_t value_bits = std::bit_cast<std::uint64_t>(value);
  if (std::isnan(value) && value_bits != kStaleNaNBits) {
    if (value_bits != kNormalNaNBits) {
      ++stats.nan_values_normalized;
    }
    value_bits = kNormalNaNBits;
  }
  return value_bits;
}

constexpr std::size_t SampleFieldSize(std::uint64_t timestamp) noexcept {
  return BytesFieldSize(1 + 8 + 1 + VarintSize(timestamp));
}

// TimeSeries.samples with one Sample; the caller reserved SampleFieldSize bytes.
char* PutSample(char* p, std::uint64_t value_bits, std::uint64_t timestamp) noexcept {
  *p++ = kTagSample;
  p = PutVarint(p, 1 + 8 + 1 + VarintSize(timestamp));
  *p++ = kTagValue;
  for (int i = 0; i < 8; ++i) {  // fixed64 is little-endian on the wire
    *p++ = static_cast<char>((value_bits >> (8 * i)) & 0xff);
  }
  *p++ = kTagTimestamp;
  return PutVarint(p, timestamp);
}

}  // namespace

std::size_t RemoteWriteEncoder::LabelsSize() const noexcept {
  std::size_t labels_size = 0;
  for (const LabelView& l : labels_) {
    std::size_t inner = BytesFieldSize(l.name.size()) + BytesFieldSize(l.value.size());
    labels_size += BytesFieldSize(inner);
  }
  return labels_size;
}

char* RemoteWriteEncoder::PutLabels(char* p) const noexcept {
  for (const LabelView& l : labels_) {
    *p++ = kTagLabel;
    p = PutVarint(p, BytesFieldSize(l.name.size()) + BytesFieldSize(l.value.size()));
    p = PutBytesField(p, kTagLabelName, l.name);
    p = PutBytesField(p, kTagLabelValue, l.value);
  }
  return p;
}

void RemoteWriteEncoder::AppendSeries(std::string_view name, std::span<const LabelView> labels,
                                      double value, std::int64_t timestamp_ms, EncodeStats& stats) {
  BuildLabels(name, labels, stats);
  const std::uint64_t value_bits = ValueBits(value, stats);
  const auto timestamp = static_cast<std::uint64_t>(timestamp_ms);
  const std::size_t series_size = LabelsSize() + SampleFieldSize(timestamp);
  const std::size_t total = BytesFieldSize(series_size);

  char* p = proto_.Reserve(total + kSlack);
  char* const end = p + total;
  *p++ = kTagTimeSeries;
  p = PutVarint(p, series_size);
  p = PutLabels(p);
  PutSample(p, value_bits, timestamp);
  proto_.Commit(end);
  ++stats.samples_written;
}

void RemoteWriteEncoder::EncodeLabels(std::string_view name, std::span<const LabelView> labels,
                                      std::string& out, EncodeStats& stats) {
  ForgetCheckedNames();  // the views live for this call only
  BuildLabels(name, labels, stats);
  const std::size_t size = LabelsSize();
  const std::size_t at = out.size();
  out.resize(at + size + kSlack);
  PutLabels(out.data() + at);
  out.resize(at + size);
}

void RemoteWriteEncoder::AppendEncoded(std::string_view encoded_labels, double value,
                                       std::int64_t timestamp_ms, EncodeStats& stats) {
  const std::uint64_t value_bits = ValueBits(value, stats);
  const auto timestamp = static_cast<std::uint64_t>(timestamp_ms);
  const std::size_t series_size = encoded_labels.size() + SampleFieldSize(timestamp);
  const std::size_t total = BytesFieldSize(series_size);

  char* p = proto_.Reserve(total + kSlack);
  char* const end = p + total;
  *p++ = kTagTimeSeries;
  p = PutVarint(p, series_size);
  std::memcpy(p, encoded_labels.data(), encoded_labels.size());
  PutSample(p + encoded_labels.size(), value_bits, timestamp);
  proto_.Commit(end);
  ++stats.samples_written;
}

void RemoteWriteEncoder::Encode(const SampleRange& samples, std::string& out, EncodeStats& stats) {
  proto_.clear();
  ForgetCheckedNames();
  const SampleViews& views = *samples.views;
  for (std::size_t i = samples.begin; i < samples.end; ++i) {
    const SampleViews::Entry& e = views.samples[i];
    AppendSeries(e.name, views.LabelsOf(e), e.value, e.timestamp_ms, stats);
  }
  Compress(out);
}

void RemoteWriteEncoder::Append(std::string_view name, std::span<const LabelView> labels,
                                double value, std::int64_t timestamp_ms, EncodeStats& stats) {
  // The views live for this call only: an address seen before may hold other bytes now.
  ForgetCheckedNames();
  AppendSeries(name, labels, value, timestamp_ms, stats);
}

namespace {

// The end of the TimeSeries at `at` of a run, and where its value starts.
std::size_t NextSeries(const std::uint8_t* bytes, std::size_t at, std::size_t& value) noexcept {
  ++at;  // kTagTimeSeries
  std::uint64_t length = 0;
  for (int shift = 0;; shift += 7) {
    const std::uint8_t b = bytes[at++];
    length |= std::uint64_t{b & 0x7fU} << shift;
    if (b < 0x80) {
      break;
    }
  }
  const std::size_t end = at + length;
  // The series ends with its sample's timestamp varint; walking back over the varint's
  // continuation bytes reaches kTagTimestamp, which follows the value.
  std::size_t timestamp = end - 1;
  while (bytes[timestamp - 1] >= 0x80) {
    --timestamp;
  }
  value = timestamp - 1 - 8;
  return end;
}

}  // namespace

void FindValueOffsets(std::string_view run, std::vector<std::uint32_t>& out) {
  out.clear();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(run.data());
  for (std::size_t at = 0; at < run.size();) {
    std::size_t value = 0;
    at = NextSeries(bytes, at, value);
    out.push_back(static_cast<std::uint32_t>(value));
  }
}

std::string_view FirstSeriesLabels(std::string_view run) noexcept {
  if (run.empty()) {
    return run;
  }
  std::size_t value = 0;
  NextSeries(reinterpret_cast<const std::uint8_t*>(run.data()), 0, value);
  return run.substr(0, value);
}

void RemoteWriteEncoder::Compress(std::string& out) {
  // Into a reused buffer first: sizing `out` for the worst case would zero-fill it.
  compressed_.clear();
  char* dest = compressed_.Reserve(snappy::MaxCompressedLength(proto_.size()));
  std::size_t compressed = 0;
  snappy::RawCompress(proto_.data(), proto_.size(), dest, &compressed);
  out.assign(dest, compressed);
}

}  // namespace metricsd::formats
