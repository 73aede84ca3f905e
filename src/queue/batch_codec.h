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
#include <string>
#include <string_view>

#include "core/result.h"
#include "shippers/shipper.h"

namespace metricsd::queue {

// Appends the encoding of `batch` to `out`.
void EncodeBatch(const Batch& batch, std::string& out);

// Decodes one encoded batch and appends its families to `out` (so several records can be
// merged into one request). On error `out` keeps what it had before the call.
Status DecodeBatchInto(std::string_view bytes, Batch& out) noexcept;

inline Result<Batch> DecodeBatch(std::string_view bytes) noexcept {
  Batch batch;
  if (Status status = DecodeBatchInto(bytes, batch); !status) {
    return Error{status.error()};
  }
  return batch;
}

std::size_t CountSamples(const Batch& batch) noexcept;

// Smallest sample timestamp (ms); 0 for a batch without samples.
std::int64_t MinTimestamp(const Batch& batch) noexcept;

}  // namespace metricsd::queue
