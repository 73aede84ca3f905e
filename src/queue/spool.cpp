#include "queue/spool.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

namespace metricsd::queue {

Spool::Spool(SpoolOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  std::lock_guard lock(mu_);
  if (options_.dir.empty()) {
    disk_error_ = "no data directory";
    next_disk_try_ = std::chrono::steady_clock::time_point::max();
    return;
  }
  OpenWalLocked();
  if (wal_ != nullptr) {
    disk_ok_ = true;
  }
}

Spool::~Spool() {
  std::lock_guard lock(mu_);
  if (memory_.empty() || options_.dir.empty()) {
    return;
  }
  // Graceful shutdown: what only lives in memory goes to disk if the disk takes it now.
  if (wal_ == nullptr) {
    OpenWalLocked();
  }
  std::uint64_t lost = 0;
  for (SpoolRecord& record : memory_) {
    if (wal_ != nullptr) {
      const WalRecordInfo info{record.seq, record.samples, record.min_timestamp_ms,
                               static_cast<std::uint32_t>(record.payload.size())};
      if (wal_->Append(info, record.payload)) {
        continue;
      }
      wal_.reset();
    }
    lost += record.samples;
  }
  if (lost > 0) {
    spdlog::error("queue {}: {} samples held in memory could not be written to disk at shutdown",
                  options_.name, lost);
  }
}

void Spool::OpenWalLocked() {
  auto wal = Wal::Open(WalOptions{.dir = options_.dir,
                                  .max_bytes = options_.max_disk_bytes,
                                  .segment_bytes = options_.segment_bytes,
                                  .fsync = options_.fsync,
                                  .fsync_interval = options_.fsync_interval});
  if (!wal.ok()) {
    EnterMemoryModeLocked(wal.error());
    return;
  }
  wal_ = std::move(*wal);
  recovery_ = wal_->recovery();
  if (recovery_.records > 0 || recovery_.corrupt_regions > 0) {
    spdlog::info(
        "queue {}: {} unsent batches ({} samples) found in {}, sending them first; {} corrupt "
        "regions, {} bytes cut",
        options_.name, recovery_.records, recovery_.samples, options_.dir,
        recovery_.corrupt_regions, recovery_.truncated_bytes);
  }
  // Records already queued in memory are newer than anything on disk, so their numbers must
  // come after it (they only clash when the disk was unusable since the start).
  if (!memory_.empty() && memory_.front().seq <= wal_->last_seq()) {
    next_seq_ = wal_->last_seq() + 1;
    for (SpoolRecord& record : memory_) {
      record.seq = next_seq_++;
    }
  }
  next_seq_ = std::max(next_seq_, wal_->last_seq() + 1);
}

void Spool::EnterMemoryModeLocked(const std::string& error) {
  if (disk_ok_ || error != disk_error_) {
    spdlog::warn("queue {}: on-disk buffer unavailable ({}); buffering up to {} samples in memory",
                 options_.name, error, options_.max_memory_samples);
  }
  disk_ok_ = false;
  disk_error_ = error;
  next_disk_try_ = clock_.SteadyNow() + options_.disk_retry_interval;
}

void Spool::TryDiskLocked() {
  if (disk_ok_ || clock_.SteadyNow() < next_disk_try_) {
    return;
  }
  if (wal_ == nullptr) {
    OpenWalLocked();
    if (wal_ == nullptr) {
      return;
    }
  }
  while (!memory_.empty()) {
    SpoolRecord& record = memory_.front();
    const WalRecordInfo info{record.seq, record.samples, record.min_timestamp_ms,
                             static_cast<std::uint32_t>(record.payload.size())};
    if (Status status = wal_->Append(info, record.payload); !status) {
      EnterMemoryModeLocked(status.error());
      return;
    }
    memory_samples_ -= record.samples;
    memory_.pop_front();
  }
  disk_ok_ = true;
  disk_error_.clear();
  spdlog::info("queue {}: on-disk buffer in {} is usable again", options_.name, options_.dir);
}

void Spool::MemoryPushLocked(SpoolRecord record) {
  memory_samples_ += record.samples;
  memory_.push_back(std::move(record));
  std::uint64_t dropped = 0;
  // Keep at least the newest record, even when it alone is over the cap.
  while (memory_samples_ > options_.max_memory_samples && memory_.size() > 1) {
    dropped += memory_.front().samples;
    memory_samples_ -= memory_.front().samples;
    memory_.pop_front();
  }
  if (dropped > 0) {
    if (dropped_memory_cap_ == 0) {
      spdlog::warn(
          "queue {}: memory buffer full ({} samples) while the disk is unusable; "
          "dropping the oldest batches",
          options_.name, options_.max_memory_samples);
    }
    dropped_memory_cap_ += dropped;
  }
}

void Spool::Append(std::string payload, std::uint32_t samples, std::int64_t min_timestamp_ms,
                   bool more_follow) noexcept {
  std::lock_guard lock(mu_);
  try {
    TryDiskLocked();  // first: reopening the disk may renumber what follows
    SpoolRecord record{next_seq_++, samples, min_timestamp_ms, std::move(payload)};
    if (disk_ok_) {
      const WalRecordInfo info{record.seq, samples, min_timestamp_ms,
                               static_cast<std::uint32_t>(record.payload.size())};
      Status status = wal_->Append(info, record.payload, more_follow);
      if (status) {
        return;
      }
      EnterMemoryModeLocked(status.error());
    }
    MemoryPushLocked(std::move(record));
  } catch (...) {
    dropped_memory_cap_ += samples;
  }
}

bool Spool::Read(std::size_t max_samples, std::size_t max_bytes, std::vector<SpoolRecord>& out) {
  std::lock_guard lock(mu_);
  std::size_t samples = 0;
  std::size_t bytes = 0;
  bool any = false;
  auto fits = [&](std::uint32_t s, std::size_t b) {
    return !any || (samples + s <= max_samples && bytes + b <= max_bytes);
  };
  while (true) {
    if (wal_ != nullptr && wal_->unread_records() > 0) {
      if (auto info = wal_->PeekNext(); info.has_value()) {
        if (!fits(info->samples, info->payload_bytes)) {
          break;
        }
        WalRecord record;
        if (wal_->ReadNext(record)) {
          samples += record.info.samples;
          bytes += record.payload.size();
          any = true;
          in_flight_.push_back(
              Pending{record.info.seq, record.info.samples, record.info.min_timestamp_ms, true});
          out.push_back(SpoolRecord{record.info.seq, record.info.samples,
                                    record.info.min_timestamp_ms, std::move(record.payload)});
          continue;
        }
      }
    }
    if (memory_.empty()) {
      break;
    }
    SpoolRecord& front = memory_.front();
    if (!fits(front.samples, front.payload.size())) {
      break;
    }
    samples += front.samples;
    bytes += front.payload.size();
    any = true;
    memory_samples_ -= front.samples;
    in_flight_.push_back(Pending{front.seq, front.samples, front.min_timestamp_ms, false});
    out.push_back(std::move(front));
    memory_.pop_front();
  }
  return any;
}

void Spool::Ack(std::uint64_t seq) noexcept {
  std::lock_guard lock(mu_);
  std::uint64_t disk_seq = 0;
  while (!in_flight_.empty() && in_flight_.front().seq <= seq) {
    if (in_flight_.front().on_disk) {
      disk_seq = in_flight_.front().seq;
    }
    in_flight_.pop_front();
  }
  if (disk_seq == 0 || wal_ == nullptr) {
    return;
  }
  if (Status status = wal_->Ack(disk_seq); !status) {
    // Not fatal: the records are delivered; a restart would send them once more.
    spdlog::warn("queue {}: cannot persist the ack: {}", options_.name, status.error());
  }
}

SpoolStats Spool::Stats() const {
  std::lock_guard lock(mu_);
  SpoolStats stats;
  stats.pending_records = memory_.size() + in_flight_.size();
  stats.pending_samples = memory_samples_;
  for (const Pending& pending : in_flight_) {
    stats.pending_samples += pending.samples;
    stats.oldest_pending_timestamp_ms =
        std::min(stats.oldest_pending_timestamp_ms.value_or(pending.min_timestamp_ms),
                 pending.min_timestamp_ms);
  }
  auto consider = [&](std::int64_t ts) {
    stats.oldest_pending_timestamp_ms =
        std::min(stats.oldest_pending_timestamp_ms.value_or(ts), ts);
  };
  if (wal_ != nullptr) {
    stats.pending_records += wal_->unread_records();
    stats.pending_samples += wal_->unread_samples();
    stats.disk_bytes = wal_->disk_bytes();
    stats.corrupt_records = wal_->corrupt_records();
    stats.dropped_disk_cap_samples = wal_->evicted_samples();
    stats.dropped_corrupt_samples = wal_->corrupt_samples();
    if (in_flight_.empty() && wal_->unread_records() > 0) {
      if (auto next = wal_->PeekNext(); next.has_value()) {
        consider(next->min_timestamp_ms);
      }
    }
  }
  if (!stats.oldest_pending_timestamp_ms.has_value() && !memory_.empty()) {
    consider(memory_.front().min_timestamp_ms);
  }
  stats.memory_records = memory_.size();
  stats.memory_samples = memory_samples_;
  stats.dropped_memory_cap_samples = dropped_memory_cap_;
  stats.disk_ok = disk_ok_;
  stats.disk_error = disk_error_;
  stats.recovery = recovery_;
  return stats;
}

}  // namespace metricsd::queue
