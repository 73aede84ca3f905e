// ByteBuffer: a growable byte buffer written through raw pointers, for encoders that emit
// millions of small fields a second. Unlike std::string it never zero-fills what it is about
// to overwrite and does no per-byte bookkeeping: Reserve(n) returns where n bytes may be
// written, Commit(end) records how far they were. Capacity is kept across clear(), so a
// reused buffer stops allocating once it has seen its largest message. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace metricsd {

class ByteBuffer {
 public:
  char* Reserve(std::size_t n) {
    if (capacity_ - size_ < n) {
      Grow(n);
    }
    return data_.get() + size_;
  }
  void Commit(const char* end) noexcept { size_ = static_cast<std::size_t>(end - data_.get()); }
  void Append(std::string_view bytes) {
    char* p = Reserve(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  void clear() noexcept { size_ = 0; }
  std::size_t capacity() const noexcept { return capacity_; }
  // Frees the storage (the next write allocates again).
  void Release() noexcept {
    data_.reset();
    size_ = 0;
    capacity_ = 0;
  }
  // Forgets everything past the first `n` bytes (no effect when n >= size()).
  void Truncate(std::size_t n) noexcept { size_ = std::min(size_, n); }
  char* data() noexcept { return data_.get(); }
  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::string_view view() const noexcept { return {data_.get(), size_}; }

 private:
  void Grow(std::size_t n) {
    const std::size_t capacity = std::max({std::size_t{4096}, 2 * capacity_, size_ + n});
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) {
      std::memcpy(grown.get(), data_.get(), size_);
    }
    data_ = std::move(grown);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace metricsd
