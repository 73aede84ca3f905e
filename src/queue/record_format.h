// The first byte of every queue record's payload says what follows: it versions the on-disk
// format record by record, so segments written by an older version drain unchanged after an
// upgrade (docs/queue.md).
#pragma once

namespace metricsd::queue {

// batch_codec.h, version 1: samples with families, for any shipper's encoder.
inline constexpr char kBatchRecord = 1;
// A finished remote write request: the snappy-compressed WriteRequest that is sent as is.
inline constexpr char kRemoteWriteRecord = 2;

}  // namespace metricsd::queue
