// MD5 (RFC 1321), for the relabel engine's hashmod action only: Prometheus picks a shard
// from an MD5 digest, so the same digest is needed here. Not for anything that must resist
// an attacker.
//
// Written here instead of taken from OpenSSL: the daemon does not link libcrypto, and a
// static copy in the daemon could clash with the libcrypto.so that the network module loads.
// Value type; no shared state, thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace metricsd {

using Md5Digest = std::array<std::uint8_t, 16>;

// Incremental form, so that a caller can hash several pieces without joining them first.
class Md5 {
 public:
  Md5() noexcept;

  void Update(std::string_view bytes) noexcept;
  // Pads, returns the digest and resets the hasher for the next message.
  Md5Digest Finish() noexcept;

  static Md5Digest Of(std::string_view bytes) noexcept {
    Md5 md5;
    md5.Update(bytes);
    return md5.Finish();
  }

 private:
  void Reset() noexcept;
  void Compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 4> state_;
  std::array<std::uint8_t, 64> pending_;
  std::size_t pending_size_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace metricsd
