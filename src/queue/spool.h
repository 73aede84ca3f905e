// Spool: the ordered store of one shipper's unsent batches: the on-disk Wal while the disk
// takes writes, a bounded memory queue when it does not.
//
// Records get increasing sequence numbers and are read strictly in that order. When the
// Wal cannot be opened or an append fails (disk full, read-only, EIO) the Spool keeps
// accepting records in memory, capped at max_memory_samples (oldest dropped first, counted as
// "memory_cap"), reports disk_ok = false with the error, and tries the disk again every
// disk_retry_interval; on success it first moves the memory queue to disk, in order. At
// destruction the memory queue is written to disk when possible.
//
// Thread-safe: one mutex guards everything; Append is called by the collection thread,
// Read/Ack by the sender thread, Stats by anyone. Disk I/O happens under the mutex (one
// append or one record read at a time), never network I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "queue/wal.h"

namespace metricsd::queue {

struct SpoolOptions {
  std::string name;  // for log lines
  std::string dir;   // empty: memory only
  std::uint64_t max_disk_bytes = 1ULL << 30;
  std::uint64_t segment_bytes = 0;  // 0: automatic, see WalOptions
  std::size_t max_memory_samples = 100'000;
  bool fsync = true;
  std::chrono::milliseconds fsync_interval{0};  // see WalOptions
  std::chrono::milliseconds disk_retry_interval{std::chrono::seconds(30)};
};

struct SpoolRecord {
  std::uint64_t seq = 0;
  std::uint32_t samples = 0;
  std::int64_t min_timestamp_ms = 0;
  std::string payload;
};

struct SpoolStats {
  std::uint64_t pending_records = 0;  // unread + read but not yet acknowledged
  std::uint64_t pending_samples = 0;
  std::uint64_t disk_bytes = 0;
  std::uint64_t memory_records = 0;
  std::uint64_t memory_samples = 0;
  std::optional<std::int64_t> oldest_pending_timestamp_ms;
  std::uint64_t corrupt_records = 0;             // found on disk, cumulative
  std::uint64_t dropped_disk_cap_samples = 0;    // oldest segments deleted at the size cap
  std::uint64_t dropped_memory_cap_samples = 0;  // memory queue full while the disk failed
  std::uint64_t dropped_corrupt_samples = 0;     // unreadable after recovery
  bool disk_ok = false;
  std::string disk_error;  // why the disk is not used; empty when disk_ok
  WalRecovery recovery;    // what the last Wal open found
};

class Spool {
 public:
  Spool(SpoolOptions options, const Clock& clock);
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool();

  // Stores one encoded batch (more_follow: see Wal::Append). Never throws; on allocation failure
  // the batch is dropped and counted as memory_cap.
  void Append(std::string payload, std::uint32_t samples, std::int64_t min_timestamp_ms,
              bool more_follow = false) noexcept;

  // Appends to `out` the oldest unread records, at least one, then more while their samples
  // stay within max_samples and their payloads within max_bytes. Returns false when nothing
  // is unread. The records stay pending until Ack.
  bool Read(std::size_t max_samples, std::size_t max_bytes, std::vector<SpoolRecord>& out);

  // Every record read so far with seq <= `seq` is done (delivered or dropped on purpose).
  void Ack(std::uint64_t seq) noexcept;

  SpoolStats Stats() const;

 private:
  struct Pending {
    std::uint64_t seq;
    std::uint32_t samples;
    std::int64_t min_timestamp_ms;
    bool on_disk;
  };

  void OpenWalLocked();
  void TryDiskLocked();
  void MemoryPushLocked(SpoolRecord record);
  void EnterMemoryModeLocked(const std::string& error);

  const SpoolOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unique_ptr<Wal> wal_;                               // guarded by mu_
  bool disk_ok_ = false;                                   // guarded by mu_
  std::string disk_error_;                                 // guarded by mu_
  std::chrono::steady_clock::time_point next_disk_try_{};  // guarded by mu_
  std::deque<SpoolRecord> memory_;        // guarded by mu_; unread records, oldest first
  std::uint64_t memory_samples_ = 0;      // guarded by mu_
  std::deque<Pending> in_flight_;         // guarded by mu_; read, not yet acknowledged
  std::uint64_t next_seq_ = 1;            // guarded by mu_
  std::uint64_t dropped_memory_cap_ = 0;  // guarded by mu_
  WalRecovery recovery_;                  // guarded by mu_
};

}  // namespace metricsd::queue
