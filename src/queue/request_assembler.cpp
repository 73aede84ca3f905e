#include "queue/request_assembler.h"

#include <snappy.h>

#include <algorithm>

#include "formats/remote_write_decoder.h"
#include "queue/record_format.h"

namespace metricsd::queue {
namespace {

bool IsReady(const SpoolRecord& record) noexcept {
  return !record.payload.empty() && record.payload.front() == kRemoteWriteRecord;
}

std::string_view BodyOf(const SpoolRecord& record) noexcept {
  return std::string_view(record.payload).substr(1);
}

}  // namespace

void RequestAssembler::PushPieces(std::size_t begin, std::size_t max_samples) {
  const std::size_t end = views_.samples.size();
  const std::size_t first = work_.size();
  for (std::size_t at = begin; at < end; at += std::min(max_samples, end - at)) {
    work_.push_back(Piece{at, at + std::min(max_samples, end - at)});
  }
  std::reverse(work_.begin() + static_cast<std::ptrdiff_t>(first), work_.end());  // back() first
}

bool RequestAssembler::DecodeReady(std::string_view body, std::uint64_t seq, std::uint32_t samples,
                                   const CorruptFn& on_corrupt) {
  decoded_.emplace_back();
  Status status = formats::DecodeCompressedWriteRequest(body, decoded_.back(), views_);
  if (!status) {
    decoded_.pop_back();
    on_corrupt(seq, status.error(), samples);
    return false;
  }
  return true;
}

void RequestAssembler::TakeReady(const CorruptFn& on_corrupt) {
  std::size_t last = next_record_;
  while (last < records_.size() && IsReady(records_[last])) {
    ++last;
  }
  if (last - next_record_ == 1) {  // the normal case: one cycle's request
    const SpoolRecord& record = records_[next_record_++];
    ready_ = Ready{BodyOf(record), record.samples, record.seq};
    return;
  }
  // A backlog: one body for all of them.
  joined_proto_.clear();
  std::string proto;
  Ready joined{{}, 0, records_[next_record_].seq};
  for (; next_record_ < last; ++next_record_) {
    const SpoolRecord& record = records_[next_record_];
    const std::string_view body = BodyOf(record);
    if (!snappy::Uncompress(body.data(), body.size(), &proto)) {
      on_corrupt(record.seq, "not a valid snappy block", record.samples);
      continue;
    }
    joined_proto_ += proto;
    joined.samples += record.samples;
  }
  if (joined.samples == 0) {
    return;
  }
  joined_body_.clear();
  snappy::Compress(joined_proto_.data(), joined_proto_.size(), &joined_body_);
  joined.body = joined_body_;
  ready_ = joined;
}

bool RequestAssembler::FillFromRecords(const Limits& limits, const CorruptFn& on_corrupt) {
  views_.clear();
  decoded_.clear();
  while (views_.samples.size() < limits.max_samples) {
    if (!reader_) {
      if (next_record_ == records_.size()) {
        break;
      }
      const SpoolRecord& record = records_[next_record_];
      if (IsReady(record)) {
        if (!limits.sends_ready) {
          ++next_record_;
          DecodeReady(BodyOf(record), record.seq, record.samples, on_corrupt);
          continue;
        }
        if (!views_.samples.empty()) {
          break;  // send the samples before it first
        }
        TakeReady(on_corrupt);
        if (ready_) {
          return true;
        }
        continue;
      }
      reader_.emplace(record.payload);
      reading_seq_ = record.seq;
      reading_samples_ = record.samples;
      ++next_record_;
    }
    Result<bool> more = reader_->Next(limits.max_samples - views_.samples.size(), views_);
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
  PushPieces(0, limits.max_samples);
  return true;
}

std::optional<RequestAssembler::Request> RequestAssembler::Current(Spool& spool,
                                                                   const Limits& limits,
                                                                   const CorruptFn& on_corrupt) {
  for (;;) {
    while (!work_.empty() && work_.back().begin == work_.back().end) {
      work_.pop_back();
    }
    if (ready_ || !work_.empty() || FillFromRecords(limits, on_corrupt)) {
      if (ready_) {
        return Request{{}, ready_->body, ready_->samples};
      }
      const Piece& piece = work_.back();
      return Request{SampleRange{&views_, piece.begin, piece.end}, {}, piece.end - piece.begin};
    }
    // Everything read so far is finished: acknowledge it and read on.
    if (ack_seq_ != 0) {
      spool.Ack(ack_seq_);
      ack_seq_ = 0;
    }
    records_.clear();
    next_record_ = 0;
    if (!spool.Read(limits.max_samples, limits.max_payload_bytes, records_)) {
      return std::nullopt;
    }
    ack_seq_ = records_.back().seq;
  }
}

void RequestAssembler::Finished() {
  if (ready_) {
    ready_.reset();
  } else if (!work_.empty()) {
    work_.pop_back();
  }
}

bool RequestAssembler::Split(const CorruptFn& on_corrupt) {
  if (ready_) {
    const Ready ready = *ready_;
    ready_.reset();
    views_.clear();
    decoded_.clear();
    if (!DecodeReady(ready.body, ready.seq, static_cast<std::uint32_t>(ready.samples),
                     on_corrupt)) {
      return true;  // reported and dropped
    }
    PushPieces(0, SIZE_MAX);
    if (work_.empty()) {
      return true;
    }
  }
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
  const bool all_finished = work_.empty() && !ready_ && !reader_ && next_record_ == records_.size();
  if (all_finished && ack_seq_ != 0) {
    spool.Ack(ack_seq_);
    ack_seq_ = 0;
  }
}

}  // namespace metricsd::queue
