// RequestAssembler: the sender thread's source of requests. It reads the spool's records and
// hands out one request at a time, never copying a sample:
//   - batch records (record_format.h) become views of at most `max_samples` samples, possibly
//     joining several small records; the shipper encodes them;
//   - finished remote write records go out as they are, when the shipper takes them
//     (Shipper::SendsReadyRequests). Several read together (a backlog) are joined into one
//     body: their protobufs are concatenated, which is a valid WriteRequest, and compressed
//     once. Other shippers, and a ready request being split, get them decoded into views.
// A request the receiver finds too large is split in halves, the first half (ceil(n/2))
// going first. The records are acknowledged in the spool only when every sample of them is
// finished (sent, or dropped on purpose), so a stop or a crash repeats at most one read's
// worth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

  struct Request {
    SampleRange samples;    // to encode, when `body` is empty
    std::string_view body;  // a finished remote write body, sent as is
    std::size_t sample_count = 0;
  };

  struct Limits {
    std::size_t max_samples = SIZE_MAX;
    std::size_t max_payload_bytes = SIZE_MAX;
    bool sends_ready = false;  // the shipper posts finished remote write bodies
  };

  // The request to send now: the same one until Finished() or Split(). When everything read
  // is finished, it acknowledges that in `spool` and reads on; nullopt when the spool has
  // nothing more yet.
  std::optional<Request> Current(Spool& spool, const Limits& limits, const CorruptFn& on_corrupt);
  // The current request was delivered or dropped: the next one follows.
  void Finished();
  // Halves the current request. False (nothing changes) when it holds a single sample. A
  // finished body that cannot be decoded is reported to `on_corrupt` and dropped (true).
  bool Split(const CorruptFn& on_corrupt);
  // Stopping: acknowledges what was read if every sample of it is finished; otherwise all
  // of it is sent again after a restart.
  void AckIfAllFinished(Spool& spool);

 private:
  struct Piece {
    std::size_t begin;
    std::size_t end;
  };
  struct Ready {
    std::string_view body;
    std::size_t samples = 0;
    std::uint64_t seq = 0;  // of its first record, for reports
  };
  // Prepares the next request from the records read; false when none are left.
  bool FillFromRecords(const Limits& limits, const CorruptFn& on_corrupt);
  // Takes the finished remote write records that follow as one body.
  void TakeReady(const CorruptFn& on_corrupt);
  // Decodes a finished body into views_ (appended); false after reporting it corrupt.
  bool DecodeReady(std::string_view body, std::uint64_t seq, std::uint32_t samples,
                   const CorruptFn& on_corrupt);
  // Queues views_ [begin, end) as pieces of at most max_samples, in order.
  void PushPieces(std::size_t begin, std::size_t max_samples);

  std::vector<SpoolRecord> records_;  // one Read() of the spool
  std::size_t next_record_ = 0;
  std::optional<BatchViewReader> reader_;  // the batch record being cut into requests
  std::uint64_t reading_seq_ = 0;
  std::uint32_t reading_samples_ = 0;
  SampleViews views_;                // the samples of the current requests, into records_/decoded_
  std::vector<Piece> work_;          // ranges of views_; back() goes next
  std::optional<Ready> ready_;       // a finished body to send as is
  std::string joined_proto_;         // scratch: the protobufs of several records
  std::string joined_body_;          // their body, compressed once
  std::deque<std::string> decoded_;  // protobufs that views_ point into
  std::uint64_t ack_seq_ = 0;
};

}  // namespace metricsd::queue
