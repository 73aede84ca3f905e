// Wal: the durable on-disk queue of one shipper, in its own directory.
//
// Files in the directory:
//   <20-digit first seq>.wal  segment: 16-byte header ("MDWALSG1", u64 first seq), then records
//   ack                       two 16-byte slots (offsets 0 and 16), each u32 magic "MACK",
//                             u32 crc32c(seq), u64 seq: every record with seq <= the higher
//                             valid slot's seq was delivered (or dropped on purpose). Written
//                             in place, one pwrite per ack into the older slot, so a torn write
//                             (power loss) damages only that slot and the other keeps the
//                             previous ack. A 16-byte file (the format before) is one slot.
//   lock                      flock()ed while open, so two processes never share a queue.
// Files are created 0600 and directories 0700 whatever the umask; every file is opened with
// O_NOFOLLOW, and a symlink in place of one of them makes Open (or Ack) fail: never followed.
// An ack.tmp left by an older version (which renamed it over ack) is removed by Open.
// Record: 32-byte header, then the payload (an encoded Batch):
//   u32 magic "MREC" · u32 crc32c(header[8..32) + payload) · u32 payload length ·
//   u32 sample count · u64 seq · i64 smallest sample timestamp (ms)      (all little endian)
//
// Recovery (Open): every segment is read and checked once. A record whose checksum, magic or
// length is wrong starts a corrupt region; the scan looks for the next valid record (magic +
// checksum) and skips only the bytes in between, counted in corrupt_records(). If no valid
// record follows, the file is truncated there (a torn or zero-filled tail). Good records are
// never skipped. Segments whose records are all acknowledged are deleted.
//
// Appending to the newest segment is the only write; a new segment starts at segment_bytes.
// When the total size would pass max_bytes, the oldest segments are deleted first and their
// unread samples counted in evicted_samples(). With fsync, each append is fdatasync()ed
// before returning (with fsync_interval, the first append once that interval has passed
// since the last sync, which covers every append before it), and the ack file at most once
// per kAckSyncInterval (its directory only when the first ack created it): after a power
// loss the ack is at most that old, and what it no longer covers is sent again.
//
// Records are read in order with ReadNext(); Ack(seq) later marks them delivered. While
// the unread records fit in recent_payload_bytes, their payloads also stay in memory with
// their place on disk: a reader that follows the writer closely gets them without a pread,
// byte for byte what was written. A backlog beyond that bound (an outage) drops them all
// and is read from disk, like the backlog found at Open, until the reader has caught up.
// Not thread-safe: the owner (Spool) serialises every call.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace metricsd::queue {

struct WalOptions {
  std::string dir;
  std::uint64_t max_bytes = 1ULL << 30;
  std::uint64_t segment_bytes = 0;  // 0: max_bytes / 16, clamped to [64 KiB, 64 MiB]
  bool fsync = true;
  // With fsync: 0 syncs every append before it returns; more is group commit, one
  // fdatasync covering every append since the last, at most once per interval.
  std::chrono::milliseconds fsync_interval{0};
  // At most this many bytes of unread payloads are kept in memory for the reader; 0: none.
  std::size_t recent_payload_bytes = 4U << 20;
};

struct WalRecordInfo {
  std::uint64_t seq = 0;
  std::uint32_t samples = 0;
  std::int64_t min_timestamp_ms = 0;
  std::uint32_t payload_bytes = 0;
};

struct WalRecord {
  WalRecordInfo info;
  std::string payload;
};

// What Open() found on disk.
struct WalRecovery {
  std::uint64_t segments = 0;
  std::uint64_t records = 0;  // unacknowledged, to be replayed
  std::uint64_t samples = 0;
  std::uint64_t corrupt_regions = 0;
  std::uint64_t truncated_bytes = 0;
  bool ack_file_damaged = false;  // then every record found is replayed
};

class Wal {
 public:
  static constexpr std::uint32_t kMaxPayloadBytes = 64U << 20;
  static constexpr std::size_t kSegmentHeaderBytes = 16;
  static constexpr std::size_t kRecordHeaderBytes = 32;
  static constexpr std::chrono::seconds kAckSyncInterval{10};

  // Creates the directory if needed, takes the lock and recovers what is there.
  static Result<std::unique_ptr<Wal>> Open(const WalOptions& options);

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;
  ~Wal();

  // Appends one record. `seq` must be greater than every seq appended or acknowledged before.
  // A record larger than max_bytes is not written; its samples count as evicted. On an I/O
  // error (disk full, read-only, EIO) nothing of the record stays in the file. `more_follow`:
  // the caller appends more records at once (one scrape's requests) and the last of them
  // carries the sync for all (a segment closed in between is synced as it closes).
  Status Append(const WalRecordInfo& info, std::string_view payload, bool more_follow = false);

  // The next unread record, oldest first; false when every record has been read.
  bool ReadNext(WalRecord& out);
  // The header of the record ReadNext would return, without reading its payload.
  std::optional<WalRecordInfo> PeekNext();

  // Every record with seq <= `seq` is delivered: persists the ack file and deletes the
  // segments that are fully read and acknowledged.
  Status Ack(std::uint64_t seq);

  const WalRecovery& recovery() const noexcept { return recovery_; }
  std::uint64_t unread_records() const noexcept { return unread_records_; }
  std::uint64_t unread_samples() const noexcept { return unread_samples_; }
  std::uint64_t disk_bytes() const noexcept { return disk_bytes_; }
  std::uint64_t last_seq() const noexcept { return last_seq_; }
  std::uint64_t acked_seq() const noexcept { return acked_seq_; }
  // Cumulative since Open, recovery included.
  std::uint64_t corrupt_records() const noexcept { return corrupt_records_; }
  std::uint64_t corrupt_samples() const noexcept { return corrupt_samples_; }
  std::uint64_t evicted_samples() const noexcept { return evicted_samples_; }
  std::uint64_t evicted_segments() const noexcept { return evicted_segments_; }
  std::size_t segment_count() const noexcept { return segments_.size(); }
  // pread() calls on segment files since Open, recovery included.
  std::uint64_t disk_reads() const noexcept { return disk_reads_; }
  // Records that ReadNext handed out from memory instead of the disk.
  std::uint64_t memory_reads() const noexcept { return memory_reads_; }

 private:
  struct Segment {
    std::uint64_t base_seq = 0;
    std::string path;
    std::uint64_t size = 0;     // bytes of valid data, header included
    std::uint64_t records = 0;  // unacknowledged records at open, or appended since
    std::uint64_t samples = 0;
    std::uint64_t last_seq = 0;                                  // 0: no record
    std::uint64_t first_offset = kSegmentHeaderBytes;            // first unacknowledged record
    std::vector<std::pair<std::uint64_t, std::uint64_t>> holes;  // corrupt [from, to)
  };

  // A record appended since Open, kept so that a reader close behind needs no pread.
  struct RecentRecord {
    std::uint64_t segment_base = 0;  // Segment::base_seq: names the segment for good
    std::uint64_t offset = 0;
    WalRecordInfo info;
    std::string payload;
  };

  // The header that PeekNext read, so that ReadNext does not read it a second time.
  struct PeekedHeader {
    bool valid = false;
    std::uint64_t segment_base = 0;
    std::uint64_t offset = 0;
    char bytes[kRecordHeaderBytes] = {};
  };

  enum class ReadStatus { kOk, kEnd, kCorrupt };

  explicit Wal(WalOptions options);
  Status Recover();
  // Scans one segment, truncating a bad tail; records == 0 afterwards means: delete it.
  void RecoverSegment(Segment& segment, std::uint64_t& prev_seq);
  Status ReadAckFile();
  Status WriteAckFile(std::uint64_t seq);
  Status StartSegment(std::uint64_t base_seq);
  void CloseActive();
  void EvictFront();
  void DeleteDeliveredSegments();
  void ForfeitUnreadInSegment();
  void AdvanceReaderSegment();
  // Positions the reader on a readable record or the end; false when nothing is left.
  bool SettleReader();
  // `known_header`: the 32 header bytes already read at `offset`, checked like read ones.
  ReadStatus ReadRecordAt(int fd, std::uint64_t offset, std::uint64_t limit, WalRecordInfo& info,
                          std::string* payload, std::uint64_t& next,
                          const char* known_header = nullptr);
  // PreadAll on a segment, counted in disk_reads_.
  bool ReadDisk(int fd, char* buf, std::size_t n, std::uint64_t offset);
  // Called by Append for a written record, before it counts as unread.
  void KeepRecent(std::uint64_t segment_base, std::uint64_t offset, const WalRecordInfo& info,
                  std::string_view payload) noexcept;
  // The kept record at the reader's position, after dropping those the reader has passed.
  RecentRecord* RecentAtReader();
  // Offset of the next valid record after a corrupt one at `from`, or `limit` if none.
  std::uint64_t Resync(int fd, std::uint64_t from, std::uint64_t limit);
  std::string SegmentPath(std::uint64_t base_seq) const;

  WalOptions options_;
  UniqueFd lock_fd_;
  std::deque<Segment> segments_;  // oldest first; the back one is active when active_
  bool active_ = false;
  UniqueFd write_fd_;  // the active segment

  // Reader: segments_[read_segment_] at read_offset_.
  std::size_t read_segment_ = 0;
  std::uint64_t read_offset_ = kSegmentHeaderBytes;
  std::uint64_t read_records_in_segment_ = 0;
  std::uint64_t read_samples_in_segment_ = 0;
  UniqueFd read_fd_;
  std::string scratch_;  // payload buffer for recovery and resync
  PeekedHeader peeked_;
  std::deque<RecentRecord> recent_;  // unread records appended since Open, oldest first
  std::size_t recent_bytes_ = 0;     // payload bytes in recent_
  std::uint64_t disk_reads_ = 0;
  std::uint64_t memory_reads_ = 0;

  UniqueFd ack_fd_;                    // <dir>/ack; invalid until it exists
  std::size_t ack_slot_ = 0;           // the slot (0 or 1) the next ack overwrites
  bool ack_dir_sync_pending_ = false;  // with fsync: ack was created, its name not yet synced

  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
  std::chrono::steady_clock::time_point last_ack_sync_{};  // with fsync: the last durable ack
  // With fsync_interval: when an append was last synced; nullopt: never.
  std::optional<std::chrono::steady_clock::time_point> last_append_sync_;
  bool unsynced_ = false;  // appended with more_follow, not synced yet
  std::uint64_t unread_records_ = 0;
  std::uint64_t unread_samples_ = 0;
  std::uint64_t disk_bytes_ = 0;
  std::uint64_t corrupt_records_ = 0;
  std::uint64_t corrupt_samples_ = 0;
  std::uint64_t evicted_samples_ = 0;
  std::uint64_t evicted_segments_ = 0;
  WalRecovery recovery_;
};

}  // namespace metricsd::queue
