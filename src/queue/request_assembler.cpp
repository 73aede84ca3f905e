#include "queue/request_assembler.h"

namespace metricsd::queue {

bool RequestAssembler::FillFromRecords(std::size_t max_samples, const CorruptFn& on_corrupt) {
  views_.clear();
  while (views_.samples.size() < max_samples) {
    if (!reader_) {
      if (next_record_ == records_.size()) {
        break;
      }
      reader_.emplace(records_[next_record_].payload);
      reading_seq_ = records_[next_record_].seq;
      reading_samples_ = records_[next_record_].samples;
      ++next_record_;
    }
    Result<bool> more = reader_->Next(max_samples - views_.samples.size(), views_);
    if (!more) {
      const std::size_t read = reader_->samples_read();
      on_corrupt(reading_seq_, more.error(), reading_samples_ > read ? reading_samples_ - read : 0);
      reader_.reset();
    } else if (!*more) {
      reader_.reset();
    }
  }
  if (views_.samples.empty()) {
    return false;
  }
  work_.push_back(Piece{0, views_.samples.size()});
  return true;
}

std::optional<SampleRange> RequestAssembler::Current(Spool& spool, std::size_t max_samples,
                                                     std::size_t max_payload_bytes,
                                                     const CorruptFn& on_corrupt) {
  for (;;) {
    while (!work_.empty() && work_.back().begin == work_.back().end) {
      work_.pop_back();
    }
    if (!work_.empty() || FillFromRecords(max_samples, on_corrupt)) {
      return SampleRange{&views_, work_.back().begin, work_.back().end};
    }
    // Everything read so far is finished: acknowledge it and read on.
    if (ack_seq_ != 0) {
      spool.Ack(ack_seq_);
      ack_seq_ = 0;
    }
    records_.clear();
    next_record_ = 0;
    if (!spool.Read(max_samples, max_payload_bytes, records_)) {
      return std::nullopt;
    }
    ack_seq_ = records_.back().seq;
  }
}

void RequestAssembler::Finished() {
  if (!work_.empty()) {
    work_.pop_back();
  }
}

bool RequestAssembler::Split() {
  if (work_.empty() || work_.back().end - work_.back().begin < 2) {
    return false;
  }
  const Piece piece = work_.back();
  const std::size_t middle = piece.begin + (piece.end - piece.begin + 1) / 2;
  work_.pop_back();
  work_.push_back(Piece{middle, piece.end});
  work_.push_back(Piece{piece.begin, middle});
  return true;
}

void RequestAssembler::AckIfAllFinished(Spool& spool) {
  const bool all_finished = work_.empty() && !reader_ && next_record_ == records_.size();
  if (all_finished && ack_seq_ != 0) {
    spool.Ack(ack_seq_);
    ack_seq_ = 0;
  }
}

}  // namespace metricsd::queue
