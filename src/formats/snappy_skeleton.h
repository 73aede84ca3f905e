// Snappy block bodies rebuilt from a kept "skeleton" instead of compressed again.
//
// A remote write request of a scrape is byte for byte the request of the scrape before,
// except for the 8 bytes of each sample value and the timestamps (all equal within one
// scrape). A snappy block is a list of elements: literals, and copies of earlier output at a
// distance. A skeleton is snappy's element list for one request with the literal bytes left
// out, and with every copy that reads or writes a value turned into literal bytes. Rebuilding
// the next request's block from it takes the literals from the new protobuf and compares the
// two ranges of every copy in it: the result is always a valid block of exactly the new
// bytes, or the skeleton is refused and snappy compresses the bytes again. A wrong skeleton
// can cost time, never data.
//
// The price is size: values that snappy would have copied (equal values of neighbouring
// series) go out as literals.
//
// Skeletons are position-independent (copies never reach before their own input), so the
// skeletons of several ranges of one request concatenate under one length header.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/byte_buffer.h"
#include "formats/remote_write_encoder.h"

namespace metricsd::formats {

// Appends to `skeleton` the skeleton of `elements`, snappy's element list for `input` (its
// block less the length header): copies that would read or write a changing byte become
// literal bytes. The changing bytes are the 8 value bytes at each of `value_offsets`
// (ascending, relative to `input`), except the low zero bytes of a whole number of 256 or
// more, which stay zero while a counter grows. False when `elements` is not an element list of
// `input`.
bool BuildSnappySkeleton(std::string_view elements, std::string_view input,
                         std::span<const std::uint32_t> value_offsets, std::string& skeleton);

// Writes at `dest` the snappy elements that `skeleton` gives for `input`: literals are taken
// from `input` and each copy must reproduce `input`. Returns the end of what was written, or
// nullptr when the skeleton does not describe `input`. `dest` has room for
// skeleton.size() + input.size() + kWriteSlack bytes (short runs are moved 16 bytes at a time).
inline constexpr std::size_t kWriteSlack = 16;
char* WriteBySkeleton(std::string_view skeleton, std::string_view input, char* dest) noexcept;

// The skeletons of one producer's recent requests, keyed by their bytes up to the first value
// and their length. A request without a fitting skeleton is compressed by snappy; the
// skeleton of that block is kept when the same key was seen in the cycle before and its
// skeleton, if any, still fitted. Not thread-safe.
class SnappySkeletonCache {
 public:
  // keep_skeletons false: every run is compressed by snappy and nothing is kept.
  explicit SnappySkeletonCache(bool keep_skeletons = true) : keep_skeletons_(keep_skeletons) {}

  // Appends to `out` the snappy elements of `run`, whole TimeSeries as RemoteWriteEncoder
  // writes them: from its kept skeleton when it still fits, else from snappy.
  void AppendElements(std::string_view run, ByteBuffer& out);
  // Forgets the skeletons that were not used since the last call.
  void EndCycle();

  bool keeps_skeletons() const noexcept { return keep_skeletons_; }
  std::size_t skeleton_bytes() const noexcept { return skeleton_bytes_; }
  // Runs rebuilt from a skeleton, runs compressed by snappy, skeletons built; since start.
  std::uint64_t reused() const noexcept { return reused_; }
  std::uint64_t compressed() const noexcept { return compressed_; }
  std::uint64_t built() const noexcept { return built_; }

 private:
  // Appends snappy's elements for `input` to `out` and returns them.
  std::string_view CompressBySnappy(std::string_view input, ByteBuffer& out);

  struct Entry {
    std::string skeleton;
    std::uint64_t used_in_cycle = 0;
  };
  bool keep_skeletons_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t cycle_ = 1;
  std::size_t skeleton_bytes_ = 0;
  std::uint64_t reused_ = 0;
  std::uint64_t compressed_ = 0;
  std::uint64_t built_ = 0;
};

}  // namespace metricsd::formats
