// Cutting a Batch into smaller ones: halves for a receiver that answered 413, and chunks of
// at most max_samples_per_request. Families keep their name, help and type in every piece;
// sample order is preserved (first piece holds the first samples). Pure functions.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "shippers/shipper.h"

namespace metricsd::queue {

// Splits at half of the samples (the first half holds ceil(n/2)).
// A batch with fewer than two samples comes back as {batch, {}}.
std::pair<Batch, Batch> SplitBatch(Batch batch);

// Pieces of at most `max_samples` samples each, in order. max_samples == 0: one piece.
// Families without samples are dropped (they carry nothing to send).
std::vector<Batch> ChunkBatch(Batch batch, std::size_t max_samples);

}  // namespace metricsd::queue
