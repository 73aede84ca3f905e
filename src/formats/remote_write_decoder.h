// Reads a remote write 1.0 WriteRequest back into sample views: the queue's way to split a
// finished request the receiver found too large, or to hand one to a shipper of another
// format after a reload changed the shipper's type.
//
// Only what RemoteWriteEncoder writes is kept: each TimeSeries' labels and samples (one
// entry per sample, all with the series' labels); other fields (exemplars, histograms,
// metadata) are skipped. __name__ becomes the sample name and is left out of the labels.
// Families are not in the protocol: each run of one name is a family of that name, untyped,
// without help.
//
// The input is untrusted (it comes from disk): every read is bounds-checked, so any input
// yields views or an error, never undefined behaviour. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/sample_views.h"

namespace metricsd::formats {

// Decodes an uncompressed WriteRequest into views that point into `proto` (which must outlive
// them), appended to `out`. On error `out` keeps what it had before the call.
Status DecodeWriteRequest(std::string_view proto, SampleViews& out) noexcept;

// The same for a snappy-compressed request body: the protobuf goes to `proto` (replaced),
// which must outlive the views.
Status DecodeCompressedWriteRequest(std::string_view body, std::string& proto,
                                    SampleViews& out) noexcept;

}  // namespace metricsd::formats
