// A compact binary encoding of a Batch, used for the records of the on-disk queue.
//
// Layout (version 1), all integers LEB128 varints unless noted:
//   u8 version (1) · family_count · families
//   family: name · help · u8 type · sample_count · samples
//   sample: name · label_count · (label name · label value)* · f64 value (8 bytes, little
//           endian, bit pattern kept so stale-marker NaNs survive) · zigzag(timestamp delta)
// Every string is a dictionary reference: varint v, odd → the (v>>1)-th string already seen in
// this batch, even → a new string of v>>1 bytes that follow (it joins the dictionary). Label
// names, repeated values and the family name reused as sample name cost one or two bytes.
// Timestamps are deltas from the previous sample of the batch (the first from 0).
//
// DecodeBatch treats its input as untrusted: every read is bounds-checked and counts are
// checked against the bytes left before anything is reserved, so any input yields a batch or
// an error, never undefined behaviour. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "shippers/shipper.h"

namespace metricsd::queue {

// Appends the encoding of `batch` to `out`.
void EncodeBatch(const Batch& batch, std::string& out);

// Decodes one encoded batch and appends its families to `out` (so several records can be
// merged into one request). On error `out` keeps what it had before the call.
Status DecodeBatchInto(std::string_view bytes, Batch& out) noexcept;

// Decodes one encoded batch into views that point into `bytes` (which must outlive them),
// appended to `out`. On error `out` keeps what it had before the call. No string is copied:
// the sender's path from the on-disk queue to the wire.
Status DecodeBatchViews(std::string_view bytes, SampleViews& out) noexcept;

// Reads one encoded batch a piece at a time, as views into `bytes` (which must outlive them
// and the reader): each Next() appends at most `max_samples` further samples to `out`, so a
// 100k-sample record never needs views for all of its samples at once. Untrusted input as
// for DecodeBatch: every read is checked.
class BatchViewReader {
 public:
  explicit BatchViewReader(std::string_view bytes);
  BatchViewReader(const BatchViewReader&) = delete;
  BatchViewReader& operator=(const BatchViewReader&) = delete;
  ~BatchViewReader();

  // true: samples were appended or the batch continues; false: the batch is done (nothing
  // appended). An error leaves `out` as it was; the reader is then done.
  Result<bool> Next(std::size_t max_samples, SampleViews& out);
  std::size_t samples_read() const noexcept { return samples_read_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::size_t samples_read_ = 0;
};

inline Result<Batch> DecodeBatch(std::string_view bytes) noexcept {
  Batch batch;
  if (Status status = DecodeBatchInto(bytes, batch); !status) {
    return Error{status.error()};
  }
  return batch;
}

// The streaming form of EncodeBatch, for producers that hold no Batch (scraped bodies of
// 100k series): samples are added one at a time and every string is copied into the output
// as it is added, so the views passed in need only live for the call. Consecutive samples of
// one family share a family entry; a family seen again later gets a second entry (decoded as
// two families of the same name, which every consumer accepts). The output is the same
// version-1 encoding DecodeBatch reads. Not thread-safe.
class BatchWriter {
 public:
  BatchWriter();

  void Add(std::string_view family, std::string_view help, MetricType type, std::string_view name,
           std::span<const LabelView> labels, double value, std::int64_t timestamp_ms);

  std::size_t samples() const noexcept { return samples_; }
  // Smallest sample timestamp (ms); 0 while empty.
  std::int64_t min_timestamp_ms() const noexcept { return samples_ == 0 ? 0 : min_timestamp_; }

  // The finished encoding; the writer starts a new, empty batch afterwards.
  std::string Finish();

  // Where the batch stands, so that the samples added after it can be taken back: a scrape
  // that turns out to be invalid or over a limit after some of its samples were added.
  struct Mark {
    std::size_t size = 0;
    std::uint32_t strings = 0;
    std::size_t families = 0;
    std::size_t samples = 0;
    std::size_t family_samples = 0;
    std::size_t family_count_at = 0;
    bool in_family = false;
    std::string family;
    std::int64_t prev_timestamp = 0;
    std::int64_t min_timestamp = 0;
  };
  Mark Checkpoint() const;
  // Drops everything added since `mark` (taken from this writer, with no Finish in between).
  void Rollback(const Mark& mark);

 private:
  struct Slot {
    std::uint32_t offset = 0;  // of the string's bytes in out_
    std::uint32_t size = 0;
    std::uint32_t index = kEmpty;
    std::uint32_t hash = 0;
  };
  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::size_t kKeptBufferBytes = 8U << 20;

  void Reset();
  // Writes `s` as a dictionary reference or a new string. `position` is where it sits in a
  // sample (0: name, then label name/value pairs): most strings equal the previous sample's
  // at the same position, which is checked before hashing.
  void String(std::string_view s, std::size_t position);
  void GrowSlots();
  void CloseFamily();
  // Room for `n` more bytes; returns where they go. Bytes are written through raw pointers:
  // std::string's per-byte bookkeeping costs more than the encoding itself here.
  char* Reserve(std::size_t n) { return capacity_ - size_ >= n ? buffer_.get() + size_ : Grow(n); }
  char* Grow(std::size_t n);
  std::string_view Written(std::size_t offset, std::size_t size) const noexcept {
    return {buffer_.get() + offset, size};
  }

  std::unique_ptr<char[]> buffer_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::vector<Slot> slots_;  // open addressing over the strings already written
  // By position in a sample: the last few distinct strings seen there (label values often
  // cycle through a handful: methods, status codes), checked before hashing.
  struct Recent {
    static constexpr std::size_t kSize = 4;
    Slot slots[kSize];
    std::uint8_t next = 0;
    void Remember(const Slot& slot) noexcept {
      slots[next] = slot;
      next = static_cast<std::uint8_t>((next + 1) % kSize);
    }
  };
  std::vector<Recent> recent_;
  std::uint32_t strings_ = 0;
  std::size_t families_ = 0;
  std::size_t samples_ = 0;
  std::size_t family_samples_ = 0;
  std::size_t family_count_at_ = 0;  // offset of the current family's sample count
  bool in_family_ = false;
  std::string family_;  // the current family's name
  std::int64_t prev_timestamp_ = 0;
  std::int64_t min_timestamp_ = 0;
};

std::size_t CountSamples(const Batch& batch) noexcept;

// Smallest sample timestamp (ms); 0 for a batch without samples.
std::int64_t MinTimestamp(const Batch& batch) noexcept;

}  // namespace metricsd::queue
