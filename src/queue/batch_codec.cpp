#include "queue/batch_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <new>
#include <unordered_map>
#include <vector>

#include "core/bytes.h"
#include "core/varint.h"

namespace metricsd::queue {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kMaxType = static_cast<std::uint8_t>(MetricType::kGaugeHistogram);
// Smallest possible encodings, used to reject absurd counts before reserving memory.
constexpr std::size_t kMinFamilyBytes = 4;   // name, help, type, sample_count
constexpr std::size_t kMinSampleBytes = 11;  // name, label_count, 8-byte value, timestamp
constexpr std::size_t kMinLabelBytes = 2;

using metricsd::PutVarint;  // the raw-pointer writer, beside the std::string one below

// The owning encoder appends to a std::string.
inline void PutVarint(std::string& out, std::uint64_t v) {
  char buf[10];
  out.append(buf, static_cast<std::size_t>(PutVarint(buf, v) - buf));
}

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}

  void String(std::string_view s) {
    auto [it, inserted] = dict_.try_emplace(s, static_cast<std::uint32_t>(dict_.size()));
    if (!inserted) {
      PutVarint(out_, (static_cast<std::uint64_t>(it->second) << 1) | 1);
      return;
    }
    PutVarint(out_, static_cast<std::uint64_t>(s.size()) << 1);
    out_.append(s);
  }

  void Batch(const metricsd::Batch& batch) {
    out_.push_back(static_cast<char>(kVersion));
    PutVarint(out_, batch.size());
    std::int64_t prev_ts = 0;
    for (const MetricFamily& family : batch) {
      String(family.name);
      String(family.help);
      out_.push_back(static_cast<char>(family.type));
      PutVarint(out_, family.samples.size());
      for (const Sample& sample : family.samples) {
        String(sample.name);
        PutVarint(out_, sample.labels.size());
        for (const Label& label : sample.labels) {
          String(label.name);
          String(label.value);
        }
        std::uint64_t bits = std::bit_cast<std::uint64_t>(sample.value);
        if constexpr (std::endian::native == std::endian::big) {
          bits = __builtin_bswap64(bits);
        }
        char raw[8];
        std::memcpy(raw, &bits, 8);
        out_.append(raw, 8);
        // Unsigned arithmetic: the difference of two arbitrary int64 may overflow.
        PutVarint(out_,
                  ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(sample.timestamp_ms) -
                                                   static_cast<std::uint64_t>(prev_ts))));
        prev_ts = sample.timestamp_ms;
      }
    }
  }

 private:
  std::string& out_;
  std::unordered_map<std::string_view, std::uint32_t> dict_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

  bool Varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        return false;
      }
      const auto byte = static_cast<std::uint8_t>(*p_++);
      if (shift == 63 && byte > 1) {
        return false;  // would overflow 64 bits
      }
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) {
        return true;
      }
    }
    return false;
  }

  bool Count(std::size_t& n, std::size_t min_bytes_each) {
    std::uint64_t v;
    if (!Varint(v) || v > left() / min_bytes_each) {
      return false;
    }
    n = static_cast<std::size_t>(v);
    return true;
  }

  bool String(std::string_view& s) {
    std::uint64_t v;
    if (!Varint(v)) {
      return false;
    }
    if ((v & 1) != 0) {
      const std::uint64_t index = v >> 1;
      if (index >= dict_.size()) {
        return false;
      }
      s = dict_[static_cast<std::size_t>(index)];
      return true;
    }
    const std::uint64_t size = v >> 1;
    if (size > left()) {
      return false;
    }
    s = std::string_view(p_, static_cast<std::size_t>(size));
    p_ += size;
    dict_.push_back(s);
    return true;
  }

  bool Byte(std::uint8_t& b) {
    if (p_ == end_) {
      return false;
    }
    b = static_cast<std::uint8_t>(*p_++);
    return true;
  }

  bool Double(double& d) {
    if (left() < 8) {
      return false;
    }
    std::uint64_t bits;
    std::memcpy(&bits, p_, 8);
    if constexpr (std::endian::native == std::endian::big) {
      bits = __builtin_bswap64(bits);
    }
    d = std::bit_cast<double>(bits);
    p_ += 8;
    return true;
  }

  // Returns an error message, or nullptr on success.
  // The owning form: the same walk as BatchViewReader's, each sample copied out of its views.
  const char* Batch(metricsd::Batch& out) {
    std::size_t families;
    if (const char* error = Header(families)) {
      return error;
    }
    out.reserve(out.size() + families);
    std::int64_t prev_ts = 0;
    SampleViews scratch;
    for (std::size_t f = 0; f < families; ++f) {
      SampleViews::Family header;
      std::size_t samples;
      if (const char* error = FamilyHeader(header, samples)) {
        return error;
      }
      MetricFamily& family = out.emplace_back();
      family.name = header.name;
      family.help = header.help;
      family.type = header.type;
      family.samples.reserve(samples);
      for (std::size_t s = 0; s < samples; ++s) {
        scratch.clear();
        if (const char* error = SampleView(0, prev_ts, scratch)) {
          return error;
        }
        const SampleViews::Entry& view = scratch.samples.front();
        Sample& sample = family.samples.emplace_back();
        sample.name = view.name;
        sample.value = view.value;
        sample.timestamp_ms = view.timestamp_ms;
        sample.labels.reserve(view.label_count);
        for (const LabelView& label : scratch.LabelsOf(view)) {
          sample.labels.push_back(Label{std::string(label.name), std::string(label.value)});
        }
      }
    }
    if (p_ != end_) {
      return "trailing bytes after batch";
    }
    return nullptr;
  }

  // Steps of the view walk, for BatchViewReader.
  const char* Header(std::size_t& families) {
    std::uint8_t version;
    if (!Byte(version) || version != kVersion) {
      return "unknown batch encoding version";
    }
    if (!Count(families, kMinFamilyBytes)) {
      return "bad family count";
    }
    return nullptr;
  }
  const char* FamilyHeader(SampleViews::Family& family, std::size_t& samples) {
    std::uint8_t type;
    if (!String(family.name) || !String(family.help)) {
      return "truncated family header";
    }
    if (!Byte(type) || type > kMaxType) {
      return "bad metric type";
    }
    if (!Count(samples, kMinSampleBytes)) {
      return "bad sample count";
    }
    family.type = static_cast<MetricType>(type);
    return nullptr;
  }
  const char* SampleView(std::uint32_t family, std::int64_t& prev_ts, SampleViews& out) {
    SampleViews::Entry& sample = out.samples.emplace_back();
    sample.family = family;
    std::size_t labels;
    if (!String(sample.name) || !Count(labels, kMinLabelBytes)) {
      return "truncated sample";
    }
    sample.first_label = out.labels.size();
    sample.label_count = static_cast<std::uint32_t>(labels);
    for (std::size_t l = 0; l < labels; ++l) {
      LabelView& label = out.labels.emplace_back();
      if (!String(label.name) || !String(label.value)) {
        return "truncated label";
      }
    }
    std::uint64_t delta;
    if (!Double(sample.value) || !Varint(delta)) {
      return "truncated sample value";
    }
    prev_ts = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_ts) +
                                        static_cast<std::uint64_t>(UnZigZag(delta)));
    sample.timestamp_ms = prev_ts;
    return nullptr;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
  std::vector<std::string_view> dict_;
};

}  // namespace

void EncodeBatch(const Batch& batch, std::string& out) { Encoder(out).Batch(batch); }

namespace {

// Counts are written before what they count is known: a fixed five-byte varint (redundant
// continuation bits are valid LEB128) is patched in place at the end.
constexpr std::size_t kPaddedVarintBytes = 5;
// BatchWriter's positions for the family name and help (sample strings use 0..2*labels).
constexpr std::size_t kFamilyPosition = 64;

std::uint32_t HashOf(std::string_view s) {
  const std::uint64_t h = HashBytes(s);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

}  // namespace

BatchWriter::BatchWriter() { Reset(); }

namespace {

inline char* PutPaddedVarintRaw(char* p, std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < kPaddedVarintBytes; ++i) {
    const auto low = static_cast<std::uint8_t>(v & 0x7F);
    *p++ = static_cast<char>(i + 1 < kPaddedVarintBytes ? (low | 0x80) : low);
    v >>= 7;
  }
  return p;
}

}  // namespace

char* BatchWriter::Grow(std::size_t n) {
  {
    const std::size_t capacity = std::max<std::size_t>({64 * 1024, 2 * capacity_, size_ + n});
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) {
      std::memcpy(grown.get(), buffer_.get(), size_);
    }
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  return buffer_.get() + size_;
}

void BatchWriter::Reset() {
  size_ = 0;
  char* p = Reserve(1 + kPaddedVarintBytes);
  *p++ = static_cast<char>(kVersion);
  size_ = static_cast<std::size_t>(PutPaddedVarintRaw(p, 0) - buffer_.get());  // family count
  // Sized for as many strings as the previous batch had (scrapes of one target repeat), so
  // the table is not rebuilt several times while it fills.
  std::size_t slots = 1024;
  while (slots < 2 * static_cast<std::size_t>(strings_) + 2) {
    slots *= 2;
  }
  slots_.assign(slots, Slot{});
  recent_.assign(kFamilyPosition + 2, Recent{});
  strings_ = 0;
  families_ = 0;
  samples_ = 0;
  in_family_ = false;
  family_.clear();
  prev_timestamp_ = 0;
  min_timestamp_ = std::numeric_limits<std::int64_t>::max();
}

void BatchWriter::GrowSlots() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.index == kEmpty) {
      continue;
    }
    std::size_t i = slot.hash & mask;
    while (slots_[i].index != kEmpty) {
      i = (i + 1) & mask;
    }
    slots_[i] = slot;
  }
}

void BatchWriter::String(std::string_view s, std::size_t position) {
  char* p = Reserve(10 + s.size());
  if (position >= recent_.size()) {
    recent_.resize(position + 1);
  }
  Recent& recent = recent_[position];
  for (const Slot& last : recent.slots) {
    if (last.index != kEmpty && SameBytes(Written(last.offset, last.size), s)) {
      size_ = static_cast<std::size_t>(
          PutVarint(p, (static_cast<std::uint64_t>(last.index) << 1) | 1) - buffer_.get());
      return;
    }
  }
  const std::uint32_t hash = HashOf(s);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].index != kEmpty) {
    const Slot& slot = slots_[i];
    if (slot.hash == hash && SameBytes(Written(slot.offset, slot.size), s)) {
      size_ = static_cast<std::size_t>(
          PutVarint(p, (static_cast<std::uint64_t>(slot.index) << 1) | 1) - buffer_.get());
      recent.Remember(slot);
      return;
    }
    i = (i + 1) & mask;
  }
  p = PutVarint(p, static_cast<std::uint64_t>(s.size()) << 1);
  const auto offset = static_cast<std::size_t>(p - buffer_.get());
  std::memcpy(p, s.data(), s.size());
  size_ = offset + s.size();
  slots_[i] = Slot{static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(s.size()),
                   strings_++, hash};
  recent.Remember(slots_[i]);
  if (strings_ * 2 > slots_.size()) {
    GrowSlots();
  }
}

void BatchWriter::CloseFamily() {
  if (in_family_) {
    PutPaddedVarintRaw(buffer_.get() + family_count_at_, family_samples_);
    in_family_ = false;
  }
}

void BatchWriter::Add(std::string_view family, std::string_view help, MetricType type,
                      std::string_view name, std::span<const LabelView> labels, double value,
                      std::int64_t timestamp_ms) {
  if (!in_family_ || !SameBytes(family, family_)) {
    CloseFamily();
    family_.assign(family);
    // Family strings get their own positions, after any sample's.
    String(family, kFamilyPosition);
    String(help, kFamilyPosition + 1);
    char* p = Reserve(1 + kPaddedVarintBytes);
    *p++ = static_cast<char>(type);
    family_count_at_ = static_cast<std::size_t>(p - buffer_.get());
    size_ = family_count_at_ + kPaddedVarintBytes;  // patched by CloseFamily
    family_samples_ = 0;
    in_family_ = true;
    ++families_;
  }
  String(name, 0);
  size_ = static_cast<std::size_t>(PutVarint(Reserve(10), labels.size()) - buffer_.get());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    String(labels[i].name, 1 + 2 * i);
    String(labels[i].value, 2 + 2 * i);
  }
  std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
  if constexpr (std::endian::native == std::endian::big) {
    bits = __builtin_bswap64(bits);
  }
  char* p = Reserve(8 + 10);
  std::memcpy(p, &bits, 8);
  p = PutVarint(p + 8,
                ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(timestamp_ms) -
                                                 static_cast<std::uint64_t>(prev_timestamp_))));
  size_ = static_cast<std::size_t>(p - buffer_.get());
  prev_timestamp_ = timestamp_ms;
  min_timestamp_ = std::min(min_timestamp_, timestamp_ms);
  ++family_samples_;
  ++samples_;
}

std::string BatchWriter::Finish() {
  CloseFamily();
  PutPaddedVarintRaw(buffer_.get() + 1, families_);
  std::string done(buffer_.get(), size_);
  // A buffer grown by one huge batch (a target near its body cap) is not kept for the next.
  if (capacity_ > kKeptBufferBytes) {
    buffer_.reset();
    capacity_ = 0;
  }
  Reset();
  return done;
}

BatchWriter::Mark BatchWriter::Checkpoint() const {
  return Mark{size_,           strings_,         families_,  samples_,
              family_samples_, family_count_at_, in_family_, family_,
              prev_timestamp_, min_timestamp_};
}

void BatchWriter::Rollback(const Mark& mark) {
  if (strings_ > mark.strings) {
    // Forget the strings written after the mark: rebuild the table from the older ones (a
    // failed scrape is rare, so a pass over the table is cheap enough), and the per-position
    // shortcuts, which may name a dropped string.
    std::vector<Slot> kept;
    kept.reserve(mark.strings);
    for (const Slot& slot : slots_) {
      if (slot.index != kEmpty && slot.index < mark.strings) {
        kept.push_back(slot);
      }
    }
    std::fill(slots_.begin(), slots_.end(), Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : kept) {
      std::size_t i = slot.hash & mask;
      while (slots_[i].index != kEmpty) {
        i = (i + 1) & mask;
      }
      slots_[i] = slot;
    }
    std::fill(recent_.begin(), recent_.end(), Recent{});
  }
  size_ = mark.size;
  strings_ = mark.strings;
  families_ = mark.families;
  samples_ = mark.samples;
  family_samples_ = mark.family_samples;
  family_count_at_ = mark.family_count_at;
  in_family_ = mark.in_family;
  family_ = mark.family;
  prev_timestamp_ = mark.prev_timestamp;
  min_timestamp_ = mark.min_timestamp;
}

Status DecodeBatchInto(std::string_view bytes, Batch& out) noexcept {
  const std::size_t before = out.size();
  try {
    Decoder decoder(bytes);
    if (const char* error = decoder.Batch(out); error != nullptr) {
      out.resize(before);
      return Error{error};
    }
  } catch (const std::bad_alloc&) {
    out.resize(before);
    return Error{"out of memory decoding batch"};
  }
  return Status::Ok();
}

struct BatchViewReader::State {
  explicit State(std::string_view bytes) : decoder(bytes) {}
  Decoder decoder;
  bool started = false;
  bool done = false;
  std::size_t families_left = 0;
  std::size_t samples_left = 0;  // in the current family
  std::uint32_t family = 0;      // its index in the caller's SampleViews
  bool family_placed = false;    // whether it is in the caller's current SampleViews
  SampleViews::Family family_view;
  std::int64_t prev_ts = 0;
};

BatchViewReader::BatchViewReader(std::string_view bytes) : state_(std::make_unique<State>(bytes)) {}

BatchViewReader::~BatchViewReader() = default;

Result<bool> BatchViewReader::Next(std::size_t max_samples, SampleViews& out) {
  State& st = *state_;
  if (st.done) {
    return false;
  }
  const std::size_t families = out.families.size();
  const std::size_t samples = out.samples.size();
  const std::size_t labels = out.labels.size();
  auto fail = [&](const char* error) -> Result<bool> {
    out.families.resize(families);
    out.samples.resize(samples);
    out.labels.resize(labels);
    st.done = true;
    return Error{error};
  };
  try {
    if (!st.started) {
      st.started = true;
      if (const char* error = st.decoder.Header(st.families_left)) {
        return fail(error);
      }
    }
    // The caller may have cleared `out` since the last call: the current family is placed
    // again when its next sample is read.
    st.family_placed = st.family_placed && st.family < out.families.size() &&
                       out.families[st.family].name.data() == st.family_view.name.data();
    std::size_t added = 0;
    while (added < max_samples) {
      if (st.samples_left == 0) {
        if (st.families_left == 0) {
          if (!st.decoder.AtEnd()) {
            return fail("trailing bytes after batch");
          }
          st.done = true;
          break;
        }
        --st.families_left;
        if (const char* error = st.decoder.FamilyHeader(st.family_view, st.samples_left)) {
          return fail(error);
        }
        st.family_placed = false;
        continue;
      }
      if (!st.family_placed) {
        st.family = static_cast<std::uint32_t>(out.families.size());
        out.families.push_back(st.family_view);
        st.family_placed = true;
      }
      if (const char* error = st.decoder.SampleView(st.family, st.prev_ts, out)) {
        return fail(error);
      }
      --st.samples_left;
      ++added;
    }
    samples_read_ += added;
    return added > 0 || !st.done;
  } catch (const std::bad_alloc&) {
    return fail("out of memory decoding batch");
  }
}

Status DecodeBatchViews(std::string_view bytes, SampleViews& out) noexcept {
  try {
    BatchViewReader reader(bytes);
    while (true) {
      // One call reads everything; a second one only confirms the end.
      Result<bool> more = reader.Next(std::numeric_limits<std::size_t>::max(), out);
      if (!more) {
        return Error{more.error()};
      }
      if (!*more) {
        return Status::Ok();
      }
    }
  } catch (const std::bad_alloc&) {
    return Error{"out of memory decoding batch"};
  }
}

std::size_t CountSamples(const Batch& batch) noexcept {
  std::size_t n = 0;
  for (const MetricFamily& family : batch) {
    n += family.samples.size();
  }
  return n;
}

std::int64_t MinTimestamp(const Batch& batch) noexcept {
  std::int64_t min = std::numeric_limits<std::int64_t>::max();
  bool any = false;
  for (const MetricFamily& family : batch) {
    for (const Sample& sample : family.samples) {
      min = std::min(min, sample.timestamp_ms);
      any = true;
    }
  }
  return any ? min : 0;
}

}  // namespace metricsd::queue
