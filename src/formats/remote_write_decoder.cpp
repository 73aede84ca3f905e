#include "formats/remote_write_decoder.h"

#include <snappy.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>

namespace metricsd::formats {
namespace {

constexpr std::string_view kNameLabel = "__name__";

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

// A bounds-checked cursor over protobuf bytes.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const noexcept { return pos_ == bytes_.size(); }

  std::optional<std::uint64_t> Varint() noexcept {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < bytes_.size(); shift += 7) {
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= std::uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    return std::nullopt;
  }
  std::optional<std::uint64_t> Fixed64() noexcept {
    if (bytes_.size() - pos_ < 8) {
      return std::nullopt;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= std::uint64_t(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return v;
  }
  std::optional<std::string_view> Bytes() noexcept {
    const std::optional<std::uint64_t> length = Varint();
    if (!length || *length > bytes_.size() - pos_) {
      return std::nullopt;
    }
    std::string_view out = bytes_.substr(pos_, *length);
    pos_ += *length;
    return out;
  }
  // Skips a field of `wire` type; false when it cannot (unknown type, truncated).
  bool Skip(std::uint32_t wire) noexcept {
    switch (wire) {
      case kVarint:
        return Varint().has_value();
      case kFixed64:
        return Fixed64().has_value();
      case kBytes:
        return Bytes().has_value();
      case kFixed32:
        if (bytes_.size() - pos_ < 4) {
          return false;
        }
        pos_ += 4;
        return true;
      default:
        return false;  // groups are not used by this protocol
    }
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct Tag {
  std::uint64_t field;
  std::uint32_t wire;
};

std::optional<Tag> ReadTag(Reader& r) noexcept {
  const std::optional<std::uint64_t> key = r.Varint();
  if (!key) {
    return std::nullopt;
  }
  return Tag{*key >> 3, static_cast<std::uint32_t>(*key & 7)};
}

// Label { string name = 1; string value = 2; }
Status ReadLabel(std::string_view bytes, LabelView& label) noexcept {
  Reader r(bytes);
  while (!r.done()) {
    const std::optional<Tag> tag = ReadTag(r);
    if (!tag) {
      return Error{"truncated label"};
    }
    if ((tag->field == 1 || tag->field == 2) && tag->wire == kBytes) {
      const std::optional<std::string_view> text = r.Bytes();
      if (!text) {
        return Error{"truncated label"};
      }
      (tag->field == 1 ? label.name : label.value) = *text;
    } else if (!r.Skip(tag->wire)) {
      return Error{"malformed label"};
    }
  }
  return {};
}

struct SampleValue {
  double value = 0;
  std::int64_t timestamp_ms = 0;
};

// Sample { double value = 1; int64 timestamp = 2; }
Status ReadSample(std::string_view bytes, SampleValue& sample) noexcept {
  Reader r(bytes);
  while (!r.done()) {
    const std::optional<Tag> tag = ReadTag(r);
    if (!tag) {
      return Error{"truncated sample"};
    }
    if (tag->field == 1 && tag->wire == kFixed64) {
      const std::optional<std::uint64_t> bits = r.Fixed64();
      if (!bits) {
        return Error{"truncated sample"};
      }
      sample.value = std::bit_cast<double>(*bits);
    } else if (tag->field == 2 && tag->wire == kVarint) {
      const std::optional<std::uint64_t> v = r.Varint();
      if (!v) {
        return Error{"truncated sample"};
      }
      sample.timestamp_ms = static_cast<std::int64_t>(*v);
    } else if (!r.Skip(tag->wire)) {
      return Error{"malformed sample"};
    }
  }
  return {};
}

Status DecodeInto(std::string_view proto, SampleViews& out) {
  Reader request(proto);
  std::vector<SampleValue> values;  // of one series
  while (!request.done()) {
    const std::optional<Tag> tag = ReadTag(request);
    if (!tag) {
      return Error{"truncated request"};
    }
    if (tag->field != 1 || tag->wire != kBytes) {  // not a TimeSeries
      if (!request.Skip(tag->wire)) {
        return Error{"malformed request"};
      }
      continue;
    }
    const std::optional<std::string_view> series = request.Bytes();
    if (!series) {
      return Error{"truncated time series"};
    }
    // TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; ... }
    const std::size_t first_label = out.labels.size();
    std::string_view name;
    bool named = false;
    values.clear();
    Reader r(*series);
    while (!r.done()) {
      const std::optional<Tag> field = ReadTag(r);
      if (!field) {
        return Error{"truncated time series"};
      }
      if ((field->field == 1 || field->field == 2) && field->wire == kBytes) {
        const std::optional<std::string_view> bytes = r.Bytes();
        if (!bytes) {
          return Error{"truncated time series"};
        }
        if (field->field == 1) {
          LabelView label;
          if (Status s = ReadLabel(*bytes, label); !s) {
            return s;
          }
          if (label.name == kNameLabel) {
            name = label.value;
            named = true;
          } else {
            out.labels.push_back(label);
          }
        } else {
          SampleValue sample;
          if (Status s = ReadSample(*bytes, sample); !s) {
            return s;
          }
          values.push_back(sample);
        }
      } else if (!r.Skip(field->wire)) {
        return Error{"malformed time series"};
      }
    }
    if (!named) {
      return Error{"a time series has no __name__ label"};
    }
    if (out.families.empty() || out.families.back().name != name) {
      out.families.push_back({name, {}, MetricType::kUntyped});
    }
    const auto family = static_cast<std::uint32_t>(out.families.size() - 1);
    const auto label_count = static_cast<std::uint32_t>(out.labels.size() - first_label);
    for (const SampleValue& v : values) {
      out.samples.push_back({family, name, first_label, label_count, v.value, v.timestamp_ms});
    }
  }
  return {};
}

}  // namespace

Status DecodeWriteRequest(std::string_view proto, SampleViews& out) noexcept {
  const std::size_t families = out.families.size();
  const std::size_t samples = out.samples.size();
  const std::size_t labels = out.labels.size();
  Status status;
  try {
    status = DecodeInto(proto, out);
  } catch (const std::exception& e) {
    status = Error{std::string("cannot decode: ") + e.what()};
  }
  if (!status) {
    out.families.resize(families);
    out.samples.resize(samples);
    out.labels.resize(labels);
  }
  return status;
}

Status DecodeCompressedWriteRequest(std::string_view body, std::string& proto,
                                    SampleViews& out) noexcept {
  try {
    proto.clear();
    if (!snappy::Uncompress(body.data(), body.size(), &proto)) {
      return Error{"not a valid snappy block"};
    }
  } catch (const std::exception& e) {
    return Error{std::string("cannot decompress: ") + e.what()};
  }
  return DecodeWriteRequest(proto, out);
}

}  // namespace metricsd::formats
