#include "formats/snappy_skeleton.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/varint.h"

namespace metricsd::formats {
namespace {

// Element tags of the snappy block format (format_description.txt in the snappy sources).
constexpr std::uint8_t kLiteral = 0;
constexpr std::uint8_t kCopy1 = 1;  // length 4..11, offset < 2048, one offset byte
constexpr std::uint8_t kCopy2 = 2;  // length 1..64, offset < 65536, two offset bytes
constexpr std::uint8_t kCopy4 = 3;  // length 1..64, four offset bytes
constexpr std::size_t kValueBytes = 8;
// A copy shorter than this is kept as literal bytes: its element would be as long.
constexpr std::size_t kShortestCopy = 4;

struct Element {
  bool literal = false;
  std::size_t header = 0;  // tag and length or offset bytes
  std::size_t length = 0;  // bytes of output
  std::size_t offset = 0;  // copies: how far back
};

// The element at `at` of `elements`, or false when it is cut short.
bool ReadElement(const std::uint8_t* s, std::size_t size, std::size_t at, Element& e) noexcept {
  const std::uint8_t tag = s[at];
  const std::size_t left = size - at;
  switch (tag & 3) {
    case kLiteral:
      e.literal = true;
      e.header = 1;
      e.length = (tag >> 2) + 1;
      if (e.length > 60) {
        const std::size_t extra = e.length - 60;
        if (left < 1 + extra) {
          return false;
        }
        e.length = 0;
        for (std::size_t k = 0; k < extra; ++k) {
          e.length |= std::size_t{s[at + 1 + k]} << (8 * k);
        }
        e.length += 1;
        e.header += extra;
      }
      return true;
    case kCopy1:
      e.header = 2;
      e.length = 4 + ((tag >> 2) & 7);
      e.offset = left < 2 ? 0 : (static_cast<std::size_t>(tag >> 5) << 8) | s[at + 1];
      break;
    case kCopy2:
      e.header = 3;
      e.length = 1 + (tag >> 2);
      e.offset = left < 3 ? 0 : s[at + 1] | (std::size_t{s[at + 2]} << 8);
      break;
    default:  // kCopy4
      e.header = 5;
      e.length = 1 + (tag >> 2);
      e.offset = left < 5 ? 0
                          : s[at + 1] | (std::size_t{s[at + 2]} << 8) |
                                (std::size_t{s[at + 3]} << 16) | (std::size_t{s[at + 4]} << 24);
      break;
  }
  e.literal = false;
  return left >= e.header;
}

void PutLiteralHeader(std::string& out, std::size_t length) {
  const std::size_t n = length - 1;
  if (n < 60) {
    out.push_back(static_cast<char>(n << 2));
    return;
  }
  std::size_t extra = 1;
  while (extra < 4 && (n >> (8 * extra)) != 0) {
    ++extra;
  }
  out.push_back(static_cast<char>((59 + extra) << 2));
  for (std::size_t i = 0; i < extra; ++i) {
    out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  }
}

// One copy of 1..64 bytes in its shortest form (offsets past 65535 take four bytes).
void PutCopy(std::string& out, std::size_t offset, std::size_t length) {
  if (length >= 4 && length <= 11 && offset < 2048) {
    out.push_back(static_cast<char>(kCopy1 | ((length - 4) << 2) | ((offset >> 8) << 5)));
    out.push_back(static_cast<char>(offset & 0xff));
    return;
  }
  const bool far = offset > 0xffff;
  out.push_back(static_cast<char>((far ? kCopy4 : kCopy2) | ((length - 1) << 2)));
  for (int i = 0; i < (far ? 4 : 2); ++i) {
    out.push_back(static_cast<char>((offset >> (8 * i)) & 0xff));
  }
}

// Bytes that may change from one request to the next: each value, but for a whole number of
// at least 256 the low bytes that stay zero while it grows 256-fold (a double's top two bytes
// hold its sign, exponent and 4 mantissa bits, each lower byte 8 more). A counter keeps them
// zero for a long time, so copies may cover them, as they do in snappy's own blocks; a value
// that fills them makes its skeleton unfit once. Smaller whole numbers are often gauges that
// are whole only now and then (0 % busy, 100 % full), so they count as changing whole.
std::size_t ChangingValueBytes(double value) noexcept {
  if (!(std::abs(value) < 0x1p53) || !(std::abs(value) >= 256) || std::trunc(value) != value) {
    return kValueBytes;
  }
  const auto magnitude = static_cast<std::uint64_t>(std::abs(value));
  const int mantissa_bits = std::bit_width(magnitude) + 7;  // room for 256 times as much
  return std::min<std::size_t>(kValueBytes, 2 + (std::max(0, mantissa_bits - 4) + 7) / 8);
}

// One byte per input byte, nonzero where it may change.
void MarkChangingBytes(std::string_view input, std::span<const std::uint32_t> value_offsets,
                       std::vector<std::uint8_t>& marks) {
  marks.assign(input.size(), 0);
  for (const std::uint32_t v : value_offsets) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, input.data() + v, kValueBytes);  // fixed64 is little-endian
    std::size_t begin = v + kValueBytes - ChangingValueBytes(std::bit_cast<double>(bits));
    for (std::size_t k = v; k < begin; ++k) {
      if (input[k] != 0) {
        begin = v;
        break;
      }
    }
    std::memset(marks.data() + begin, 1, v + kValueBytes - begin);
  }
}

// No byte of either n-byte range of marks is set.
bool Clean(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) noexcept {
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a + k, 8);
    std::memcpy(&y, b + k, 8);
    if ((x | y) != 0) {
      return false;
    }
  }
  for (; k < n; ++k) {
    if ((a[k] | b[k]) != 0) {
      return false;
    }
  }
  return true;
}

// The skeleton being written: literal bytes gather until a copy or the end needs them.
class SkeletonWriter {
 public:
  explicit SkeletonWriter(std::string& out) : out_(out) {}
  void Literal(std::size_t length) { pending_ += length; }
  void Copy(std::size_t offset, std::size_t length) {
    if (length == 0) {
      return;
    }
    if (length < kShortestCopy) {
      pending_ += length;
      return;
    }
    Flush();
    PutCopy(out_, offset, length);
  }
  void Flush() {
    if (pending_ > 0) {
      PutLiteralHeader(out_, pending_);
      pending_ = 0;
    }
  }

 private:
  std::string& out_;
  std::size_t pending_ = 0;
};

std::uint64_t Load64(const char* p) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint32_t Load32(const char* p) noexcept {
  std::uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

// memcmp(a, b, n) == 0 for the short runs copies are, without a call per copy.
bool SameBytes(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 8) {
    for (std::size_t k = 0; k + 8 < n; k += 8) {
      if (Load64(a + k) != Load64(b + k)) {
        return false;
      }
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4) {
    return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  }
  return std::memcmp(a, b, n) == 0;
}

// Copies n bytes to `dest`, which has kWriteSlack bytes of room past them; `src` has as many
// readable bytes when `src_room` says so.
void CopyBytes(char* dest, const char* src, std::size_t n, bool src_room) noexcept {
  if (n <= 16 && src_room) {
    std::memcpy(dest, src, 16);
  } else {
    std::memcpy(dest, src, n);
  }
}

}  // namespace

bool BuildSnappySkeleton(std::string_view elements, std::string_view input,
                         std::span<const std::uint32_t> value_offsets, std::string& skeleton) {
  std::vector<std::uint8_t> changing;
  MarkChangingBytes(input, value_offsets, changing);
  const std::uint8_t* marks = changing.data();
  const auto* s = reinterpret_cast<const std::uint8_t*>(elements.data());
  SkeletonWriter writer(skeleton);
  std::size_t pos = 0;
  for (std::size_t at = 0; at < elements.size();) {
    Element e;
    if (!ReadElement(s, elements.size(), at, e) || e.length > input.size() - pos ||
        (!e.literal && (e.offset == 0 || e.offset > pos))) {
      return false;
    }
    at += e.header + (e.literal ? e.length : 0);
    const std::size_t from = pos - e.offset;
    if (e.literal || Clean(marks + pos, marks + from, e.length)) {
      e.literal ? writer.Literal(e.length) : writer.Copy(e.offset, e.length);
      pos += e.length;
      continue;
    }
    // Split the copy where its output or its source meets a changing byte; those bytes
    // become literal.
    std::size_t run = 0;
    for (std::size_t k = 0; k < e.length; ++k) {
      if ((marks[pos + k] | marks[from + k]) == 0) {
        ++run;
        continue;
      }
      writer.Copy(e.offset, run);
      writer.Literal(1);
      run = 0;
    }
    writer.Copy(e.offset, run);
    pos += e.length;
  }
  writer.Flush();
  return pos == input.size();
}

char* WriteBySkeleton(std::string_view skeleton, std::string_view input, char* dest) noexcept {
  const char* sk = skeleton.data();
  const auto* s = reinterpret_cast<const std::uint8_t*>(sk);
  const std::size_t s_size = skeleton.size();
  const char* in = input.data();
  const std::size_t n = input.size();
  std::size_t pos = 0;  // in input
  for (std::size_t at = 0; at < s_size;) {
    Element e;
    if (!ReadElement(s, s_size, at, e) || e.length > n - pos) {
      return nullptr;
    }
    CopyBytes(dest, sk + at, e.header, s_size - at >= 16);
    dest += e.header;
    if (e.literal) {
      CopyBytes(dest, in + pos, e.length, n - pos >= 16);
      dest += e.length;
    } else if (e.offset == 0 || e.offset > pos ||
               !SameBytes(in + pos, in + pos - e.offset, e.length)) {
      // Byte k of a copy repeats the byte `offset` before it, overlapping or not; comparing
      // the two ranges checks exactly that.
      return nullptr;
    }
    at += e.header;
    pos += e.length;
  }
  return pos == n ? dest : nullptr;
}

void SnappySkeletonCache::AppendElements(std::string_view input, ByteBuffer& out) {
  if (input.empty()) {
    return;
  }
  if (!keep_skeletons_) {
    CompressBySnappy(input, out);
    return;
  }
  const std::uint64_t key = std::hash<std::string_view>{}(FirstSeriesLabels(input)) ^
                            (input.size() * 0x9e3779b97f4a7c15ULL);
  Entry& entry = entries_[key];
  const bool seen_before = entry.used_in_cycle != 0;
  entry.used_in_cycle = cycle_;
  bool changed = false;
  if (!entry.skeleton.empty()) {
    char* dest = out.Reserve(entry.skeleton.size() + input.size() + kWriteSlack);
    if (char* end = WriteBySkeleton(entry.skeleton, input, dest)) {
      out.Commit(end);
      ++reused_;
      return;
    }
    changed = true;
    skeleton_bytes_ -= entry.skeleton.size();
    entry.skeleton.clear();
  }
  const std::string_view elements = CompressBySnappy(input, out);
  // A skeleton pays only for a run that comes back unchanged: none for a run seen for the
  // first time (a target whose series change each scrape makes new runs every time), nor
  // right after the run changed (the next cycle builds one again).
  if (!seen_before || changed) {
    return;
  }
  // Building is rare (once per changed run), so its scratch is not kept.
  std::vector<std::uint32_t> value_offsets;
  FindValueOffsets(input, value_offsets);
  if (!BuildSnappySkeleton(elements, input, value_offsets, entry.skeleton)) {
    entry.skeleton.clear();  // not snappy's block format: never kept
  }
  skeleton_bytes_ += entry.skeleton.size();
  ++built_;
}

std::string_view SnappySkeletonCache::CompressBySnappy(std::string_view input, ByteBuffer& out) {
  // Snappy's elements (the block less its length header) go out as they are.
  char* dest = out.Reserve(snappy::MaxCompressedLength(input.size()));
  std::size_t length = 0;
  snappy::RawCompress(input.data(), input.size(), dest, &length);
  const std::size_t header = VarintSize(input.size());
  std::memmove(dest, dest + header, length - header);
  out.Commit(dest + length - header);
  ++compressed_;
  return {dest, length - header};
}

void SnappySkeletonCache::EndCycle() {
  std::erase_if(entries_, [this](const auto& item) {
    if (item.second.used_in_cycle == cycle_) {
      return false;
    }
    skeleton_bytes_ -= item.second.skeleton.size();
    return true;
  });
  ++cycle_;
}

}  // namespace metricsd::formats
