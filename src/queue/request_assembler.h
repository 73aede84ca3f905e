// RequestAssembler: the sender thread's source of requests. It reads the spool's records and
// hands out requests of at most `max_samples` samples, as views into those records (nothing
// is copied), possibly joining several small records into one request. A request the
// receiver finds too large is split in halves, the first half (ceil(n/2)) going first.
// The records are acknowledged in the spool only when every sample of them is finished
// (sent, or dropped on purpose), so a stop or a crash repeats at most one read's worth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/sample_views.h"
#include "queue/batch_codec.h"
#include "queue/spool.h"

namespace metricsd::queue {

class RequestAssembler {
 public:
  // Told which record could not be decoded, why, and how many of its samples are skipped.
  using CorruptFn =
      std::function<void(std::uint64_t seq, const std::string& why, std::uint64_t samples)>;

  // The request to send now: the same one until Finished() or Split(). When everything read
  // is finished, it acknowledges that in `spool` and reads on; nullopt when the spool has
  // nothing more yet.
  std::optional<SampleRange> Current(Spool& spool, std::size_t max_samples,
                                     std::size_t max_payload_bytes, const CorruptFn& on_corrupt);
  // The current request was delivered or dropped: the next one follows.
  void Finished();
  // Halves the current request. False (nothing changes) when it holds a single sample.
  bool Split();
  // Stopping: acknowledges what was read if every sample of it is finished; otherwise all
  // of it is sent again after a restart.
  void AckIfAllFinished(Spool& spool);

 private:
  struct Piece {
    std::size_t begin;
    std::size_t end;
  };
  // Fills views_ with up to max_samples samples from the records read; false when none left.
  bool FillFromRecords(std::size_t max_samples, const CorruptFn& on_corrupt);

  std::vector<SpoolRecord> records_;  // one Read() of the spool
  std::size_t next_record_ = 0;
  std::optional<BatchViewReader> reader_;  // the record being cut into requests
  std::uint64_t reading_seq_ = 0;
  std::uint32_t reading_samples_ = 0;
  SampleViews views_;        // the samples of the current request, into records_
  std::vector<Piece> work_;  // ranges of views_; back() goes next
  std::uint64_t ack_seq_ = 0;
};

}  // namespace metricsd::queue
