#include "relabel/md5.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace metricsd {
namespace {

// Per-step additive constants: floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
constexpr std::array<std::uint32_t, 64> kSineTable = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// Left-rotation amounts, four per round.
constexpr std::array<int, 16> kShifts = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};

std::uint32_t LoadLittleEndian32(const std::uint8_t* bytes) noexcept {
  return std::uint32_t{bytes[0]} | std::uint32_t{bytes[1]} << 8 | std::uint32_t{bytes[2]} << 16 |
         std::uint32_t{bytes[3]} << 24;
}

}  // namespace

Md5::Md5() noexcept { Reset(); }

void Md5::Reset() noexcept {
  state_ = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  pending_size_ = 0;
  total_bytes_ = 0;
}

void Md5::Compress(const std::uint8_t* block) noexcept {
  std::array<std::uint32_t, 16> words;
  for (std::size_t i = 0; i < words.size(); ++i) {
    words[i] = LoadLittleEndian32(block + 4 * i);
  }
  std::uint32_t a = state_[0];
  std::uint32_t b = state_[1];
  std::uint32_t c = state_[2];
  std::uint32_t d = state_[3];
  for (int step = 0; step < 64; ++step) {
    const int round = step / 16;
    std::uint32_t mixed;
    int word;
    switch (round) {
      case 0:
        mixed = (b & c) | (~b & d);
        word = step;
        break;
      case 1:
        mixed = (d & b) | (~d & c);
        word = (5 * step + 1) % 16;
        break;
      case 2:
        mixed = b ^ c ^ d;
        word = (3 * step + 5) % 16;
        break;
      default:
        mixed = c ^ (b | ~d);
        word = (7 * step) % 16;
        break;
    }
    const std::uint32_t sum = a + mixed + kSineTable[step] + words[word];
    a = d;
    d = c;
    c = b;
    b = b + std::rotl(sum, kShifts[round * 4 + step % 4]);
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
}

void Md5::Update(std::string_view bytes) noexcept {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t size = bytes.size();
  total_bytes_ += size;
  if (pending_size_ > 0) {
    const std::size_t take = std::min(size, pending_.size() - pending_size_);
    std::memcpy(pending_.data() + pending_size_, data, take);
    pending_size_ += take;
    data += take;
    size -= take;
    if (pending_size_ < pending_.size()) {
      return;
    }
    Compress(pending_.data());
    pending_size_ = 0;
  }
  for (; size >= 64; data += 64, size -= 64) {
    Compress(data);
  }
  if (size > 0) {
    std::memcpy(pending_.data(), data, size);
    pending_size_ = size;
  }
}

Md5Digest Md5::Finish() noexcept {
  // Padding: one 0x80 byte, zeros up to 56 mod 64, then the message length in bits (LE).
  const std::uint64_t length_bits = total_bytes_ * 8;
  std::array<std::uint8_t, 72> padding{};
  padding[0] = 0x80;
  const std::size_t used = static_cast<std::size_t>(total_bytes_ % 64);
  const std::size_t pad_size = (used < 56 ? 56 : 120) - used;
  for (int i = 0; i < 8; ++i) {
    padding[pad_size + i] = static_cast<std::uint8_t>(length_bits >> (8 * i));
  }
  Update(std::string_view(reinterpret_cast<const char*>(padding.data()), pad_size + 8));

  Md5Digest digest;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    for (int byte = 0; byte < 4; ++byte) {
      digest[4 * i + byte] = static_cast<std::uint8_t>(state_[i] >> (8 * byte));
    }
  }
  Reset();
  return digest;
}

}  // namespace metricsd
