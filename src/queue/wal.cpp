#include "queue/wal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <new>
#include <optional>
#include <system_error>

#include <spdlog/spdlog.h>

#include "queue/crc32c.h"
#include "queue/data_dir.h"

namespace metricsd::queue {
namespace {

constexpr char kSegmentMagic[8] = {'M', 'D', 'W', 'A', 'L', 'S', 'G', '1'};
constexpr std::uint32_t kRecordMagic = 0x4345524D;  // "MREC" little endian
constexpr std::uint32_t kAckMagic = 0x4B43414D;     // "MACK" little endian
constexpr std::size_t kAckBytes = 16;               // one slot; the file holds two
constexpr std::size_t kAckSlots = 2;
constexpr std::string_view kSegmentSuffix = ".wal";
constexpr std::size_t kSegmentNameDigits = 20;

template <typename T>
T ToLittle(T v) {
  if constexpr (std::endian::native == std::endian::big) {
    if constexpr (sizeof(T) == 4) {
      return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
    } else {
      return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
    }
  }
  return v;
}

template <typename T>
void Put(char* p, T v) {
  v = ToLittle(v);
  std::memcpy(p, &v, sizeof v);
}

template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return ToLittle(v);
}

std::string ErrnoText(std::string_view what, const std::string& path, int err) {
  std::string text(what);
  text += " ";
  text += path;
  text += ": ";
  text += std::strerror(err);
  return text;
}

// Repeats a partial read or write, `step(done)` doing the next part, until `n` bytes are
// done; false on an error or at the end of the file.
template <typename Step>
bool Exactly(std::size_t n, Step step) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = step(done);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(got);
  }
  return true;
}

bool PreadAll(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  return Exactly(n, [&](std::size_t done) {
    return ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
  });
}

bool WriteAll(int fd, const char* buf, std::size_t n) {
  return Exactly(n, [&](std::size_t done) { return ::write(fd, buf + done, n - done); });
}

bool PwriteAll(int fd, const char* buf, std::size_t n, std::uint64_t offset) {
  return Exactly(n, [&](std::size_t done) {
    return ::pwrite(fd, buf + done, n - done, static_cast<off_t>(offset + done));
  });
}

bool WritevAll(int fd, iovec* iov, int count) {
  while (count > 0) {
    const ssize_t put = ::writev(fd, iov, count);
    if (put < 0 && errno == EINTR) {
      continue;
    }
    if (put <= 0) {
      return false;
    }
    auto left = static_cast<std::size_t>(put);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// Queued samples may carry secrets in their labels. A file or directory that an older version
// (or a restore from a backup) left readable by others is made private when opened; failing
// to is not an error (the owner may be another user).
void TightenIfLoose(int fd, mode_t mode) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
    (void)::fchmod(fd, mode);
  }
}

// Queue files are opened with O_NOFOLLOW (a symlink planted in the data directory must not
// redirect a write or a read elsewhere) and, when created, end up 0600 whatever the umask.
int OpenPrivate(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0 && (flags & O_CREAT) != 0 && ::fchmod(fd, 0600) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  if (fd >= 0) {
    TightenIfLoose(fd, 0600);
  }
  return fd;
}

void SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.valid()) {
    ::fsync(fd.get());
  }
}

std::uint32_t RecordCrc(const char* header, std::string_view payload) {
  const std::uint32_t crc = Crc32c(0, header + 8, Wal::kRecordHeaderBytes - 8);
  return Crc32c(crc, payload.data(), payload.size());
}

WalRecordInfo DecodeRecordHeader(const char* header) {
  WalRecordInfo info;
  info.payload_bytes = Get<std::uint32_t>(header + 8);
  info.samples = Get<std::uint32_t>(header + 12);
  info.seq = Get<std::uint64_t>(header + 16);
  info.min_timestamp_ms = Get<std::int64_t>(header + 24);
  return info;
}

// The seq in one ack slot, if its magic and checksum hold.
std::optional<std::uint64_t> DecodeAckSlot(const char* slot) {
  if (Get<std::uint32_t>(slot) != kAckMagic ||
      Get<std::uint32_t>(slot + 4) != Crc32c(0, slot + 8, 8)) {
    return std::nullopt;
  }
  return Get<std::uint64_t>(slot + 8);
}

void EncodeRecordHeader(const WalRecordInfo& info, std::string_view payload, char* header) {
  Put<std::uint32_t>(header, kRecordMagic);
  Put<std::uint32_t>(header + 8, static_cast<std::uint32_t>(payload.size()));
  Put<std::uint32_t>(header + 12, info.samples);
  Put<std::uint64_t>(header + 16, info.seq);
  Put<std::int64_t>(header + 24, info.min_timestamp_ms);
  Put<std::uint32_t>(header + 4, RecordCrc(header, payload));
}

}  // namespace

Wal::Wal(WalOptions options) : options_(std::move(options)) {
  if (options_.segment_bytes == 0) {
    options_.segment_bytes =
        std::clamp<std::uint64_t>(options_.max_bytes / 16, 64U << 10, 64U << 20);
  }
}

Wal::~Wal() = default;

Result<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options) {
  std::unique_ptr<Wal> wal(new Wal(options));
  if (Status status = wal->Recover(); !status) {
    return Error{status.error()};
  }
  return wal;
}

std::string Wal::SegmentPath(std::uint64_t base_seq) const {
  char name[kSegmentNameDigits + 1];
  auto [end, ec] = std::to_chars(name, name + sizeof name, base_seq);
  const auto digits = static_cast<std::size_t>(end - name);
  std::string path = options_.dir;
  path += '/';
  path.append(kSegmentNameDigits - digits, '0');
  path.append(name, digits);
  path += kSegmentSuffix;
  return path;
}

Status Wal::Recover() {
  if (Status created = CreatePrivateDirs(options_.dir); !created) {
    return created;
  }
  if (UniqueFd dir(::open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir.valid()) {
    TightenIfLoose(dir.get(), 0700);
  }
  std::error_code ec;
  const std::string lock_path = options_.dir + "/lock";
  lock_fd_.reset(OpenPrivate(lock_path, O_RDWR | O_CREAT));
  if (!lock_fd_.valid()) {
    return Error{ErrnoText("cannot open", lock_path, errno)};
  }
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return Error{options_.dir + " is in use by another metricsd process"};
  }
  // Probe that the directory takes writes now rather than at the first append.
  if (::access(options_.dir.c_str(), W_OK) != 0) {
    return Error{ErrnoText("cannot write to", options_.dir, errno)};
  }
  if (Status status = ReadAckFile(); !status) {
    return status;
  }

  std::vector<std::uint64_t> bases;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != kSegmentNameDigits + kSegmentSuffix.size() ||
        !name.ends_with(kSegmentSuffix)) {
      continue;
    }
    if (entry.is_symlink(ec)) {
      return Error{entry.path().string() + " is a symbolic link; refusing to follow it"};
    }
    std::uint64_t base = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + kSegmentNameDigits, base);
    if (err == std::errc() && ptr == name.data() + kSegmentNameDigits) {
      bases.push_back(base);
    }
  }
  if (ec) {
    return Error{"cannot list " + options_.dir + ": " + ec.message()};
  }
  std::sort(bases.begin(), bases.end());

  std::uint64_t prev_seq = 0;
  for (std::uint64_t base : bases) {
    Segment segment;
    segment.base_seq = base;
    segment.path = SegmentPath(base);
    RecoverSegment(segment, prev_seq);
    if (segment.records == 0) {
      // Empty, fully acknowledged, or unreadable: nothing to replay from it.
      ::unlink(segment.path.c_str());
      continue;
    }
    disk_bytes_ += segment.size;
    unread_records_ += segment.records;
    unread_samples_ += segment.samples;
    segments_.push_back(std::move(segment));
  }
  last_seq_ = std::max(prev_seq, acked_seq_);
  if (!segments_.empty()) {
    read_offset_ = segments_.front().first_offset;
  }
  recovery_.segments = segments_.size();
  recovery_.records = unread_records_;
  recovery_.samples = unread_samples_;
  corrupt_records_ = recovery_.corrupt_regions;
  return Status::Ok();
}

void Wal::RecoverSegment(Segment& segment, std::uint64_t& prev_seq) {
  UniqueFd fd(OpenPrivate(segment.path, O_RDWR));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
    // One unreadable file must not take the whole queue down: it is counted and removed.
    spdlog::warn("queue {}: {}; dropped", options_.dir,
                 ErrnoText("cannot open", segment.path, errno));
    ++recovery_.corrupt_regions;
    segment.records = 0;
    return;
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  char header[kSegmentHeaderBytes];
  if (file_size < kSegmentHeaderBytes || !ReadDisk(fd.get(), header, sizeof header, 0) ||
      std::memcmp(header, kSegmentMagic, sizeof kSegmentMagic) != 0 ||
      Get<std::uint64_t>(header + 8) != segment.base_seq) {
    // A segment torn while it was being created, or not ours. Nothing in it can be trusted
    // to be in order, so it is dropped (and counted).
    if (file_size > 0) {
      ++recovery_.corrupt_regions;
      recovery_.truncated_bytes += file_size;
      spdlog::warn("queue {}: segment {} has a bad header; dropped", options_.dir, segment.path);
    }
    segment.records = 0;
    return;
  }

  std::uint64_t offset = kSegmentHeaderBytes;
  bool first_unacked_seen = false;
  while (offset < file_size) {
    WalRecordInfo info;
    std::uint64_t next = 0;
    ReadStatus status = ReadRecordAt(fd.get(), offset, file_size, info, &scratch_, next);
    if (status == ReadStatus::kOk && info.seq <= prev_seq) {
      status = ReadStatus::kCorrupt;  // a valid record out of order cannot be replayed safely
    }
    if (status == ReadStatus::kEnd) {
      break;
    }
    if (status == ReadStatus::kCorrupt) {
      ++recovery_.corrupt_regions;
      const std::uint64_t resume = Resync(fd.get(), offset, file_size);
      if (resume >= file_size) {
        recovery_.truncated_bytes += file_size - offset;
        spdlog::warn("queue {}: {} has a corrupt or torn tail of {} bytes at offset {}; truncated",
                     options_.dir, segment.path, file_size - offset, offset);
        if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
          spdlog::warn("queue {}: cannot truncate {}: {}", options_.dir, segment.path,
                       std::strerror(errno));
        }
        break;
      }
      spdlog::warn(
          "queue {}: {} has {} corrupt bytes at offset {}; skipped to the next valid record",
          options_.dir, segment.path, resume - offset, offset);
      segment.holes.emplace_back(offset, resume);
      offset = resume;
      continue;
    }
    prev_seq = info.seq;
    segment.last_seq = info.seq;
    if (info.seq > acked_seq_) {
      if (!first_unacked_seen) {
        segment.first_offset = offset;
        first_unacked_seen = true;
      }
      ++segment.records;
      segment.samples += info.samples;
    }
    offset = next;
  }
  segment.size = offset;
}

bool Wal::ReadDisk(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  ++disk_reads_;
  return PreadAll(fd, buf, n, offset);
}

Wal::ReadStatus Wal::ReadRecordAt(int fd, std::uint64_t offset, std::uint64_t limit,
                                  WalRecordInfo& info, std::string* payload, std::uint64_t& next,
                                  const char* known_header) {
  if (offset >= limit) {
    return ReadStatus::kEnd;
  }
  if (limit - offset < kRecordHeaderBytes) {
    return ReadStatus::kCorrupt;
  }
  char read_header[kRecordHeaderBytes];
  const char* header = known_header;
  if (header == nullptr) {
    if (!ReadDisk(fd, read_header, sizeof read_header, offset)) {
      return ReadStatus::kCorrupt;
    }
    header = read_header;
  }
  if (Get<std::uint32_t>(header) != kRecordMagic) {
    return ReadStatus::kCorrupt;
  }
  info = DecodeRecordHeader(header);
  const std::uint32_t length = info.payload_bytes;
  if (length > kMaxPayloadBytes || length > limit - offset - kRecordHeaderBytes) {
    return ReadStatus::kCorrupt;
  }
  if (info.seq == 0) {
    return ReadStatus::kCorrupt;  // seq 0 is never written; all-zero bytes must not pass
  }
  std::string& buf = payload != nullptr ? *payload : scratch_;
  buf.resize(length);
  if (!ReadDisk(fd, buf.data(), length, offset + kRecordHeaderBytes) ||
      RecordCrc(header, buf) != Get<std::uint32_t>(header + 4)) {
    return ReadStatus::kCorrupt;
  }
  next = offset + kRecordHeaderBytes + length;
  return ReadStatus::kOk;
}

std::uint64_t Wal::Resync(int fd, std::uint64_t from, std::uint64_t limit) {
  constexpr std::size_t kChunk = 64 << 10;
  std::string chunk;
  std::string candidate;
  char magic[4];
  Put<std::uint32_t>(magic, kRecordMagic);
  std::uint64_t pos = from + 1;
  while (pos + kRecordHeaderBytes <= limit) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, limit - pos));
    chunk.resize(n);
    if (!ReadDisk(fd, chunk.data(), n, pos)) {
      return limit;
    }
    std::string_view view(chunk);
    for (std::size_t at = view.find(std::string_view(magic, 4)); at != std::string_view::npos;
         at = view.find(std::string_view(magic, 4), at + 1)) {
      WalRecordInfo info;
      std::uint64_t next = 0;
      if (ReadRecordAt(fd, pos + at, limit, info, &candidate, next) == ReadStatus::kOk) {
        return pos + at;
      }
    }
    if (n < 4) {
      break;
    }
    pos += n - 3;  // overlap so a magic split across chunks is still found
  }
  return limit;
}

Status Wal::ReadAckFile() {
  // Versions before the two-slot ack wrote ack.tmp and renamed it over ack; one left by a
  // crash is stale (ack was complete before it) and nothing opens it any more.
  const std::string tmp = options_.dir + "/ack.tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return Error{ErrnoText("cannot remove", tmp, errno)};
  }
  const std::string path = options_.dir + "/ack";
  ack_fd_.reset(OpenPrivate(path, O_RDWR));
  if (!ack_fd_.valid()) {
    if (errno == ENOENT) {
      return Status::Ok();  // the first Ack creates it
    }
    return Error{ErrnoText("cannot open", path, errno)};
  }
  struct stat st {};
  if (::fstat(ack_fd_.get(), &st) != 0) {
    return Error{ErrnoText("cannot stat", path, errno)};
  }
  char buf[kAckSlots * kAckBytes];
  const std::size_t slots =
      std::min<std::size_t>(static_cast<std::uint64_t>(st.st_size) / kAckBytes, kAckSlots);
  std::optional<std::uint64_t> seqs[kAckSlots];
  if (PreadAll(ack_fd_.get(), buf, slots * kAckBytes, 0)) {
    for (std::size_t slot = 0; slot < slots; ++slot) {
      seqs[slot] = DecodeAckSlot(buf + slot * kAckBytes);
    }
  }
  if (!seqs[0].has_value() && !seqs[1].has_value()) {
    // At-least-once: without a trustworthy ack every record on disk is replayed.
    recovery_.ack_file_damaged = true;
    spdlog::warn("queue {}: ack file is damaged; replaying every buffered record", options_.dir);
    return Status::Ok();
  }
  const std::size_t newest = !seqs[0].has_value() || (seqs[1].has_value() && *seqs[1] > *seqs[0]);
  acked_seq_ = *seqs[newest];
  ack_slot_ = 1 - newest;  // the other slot: the newest stays intact while it is overwritten
  return Status::Ok();
}

Status Wal::WriteAckFile(std::uint64_t seq) {
  const std::string path = options_.dir + "/ack";
  if (!ack_fd_.valid()) {
    ack_fd_.reset(OpenPrivate(path, O_RDWR | O_CREAT));
    if (!ack_fd_.valid()) {
      return Error{ErrnoText("cannot create", path, errno)};
    }
    ack_dir_sync_pending_ = options_.fsync;
  }
  char slot[kAckBytes];
  Put<std::uint32_t>(slot, kAckMagic);
  Put<std::uint64_t>(slot + 8, seq);
  Put<std::uint32_t>(slot + 4, Crc32c(0, slot + 8, 8));
  // With fsync, at most once per kAckSyncInterval: a stale ack only re-sends what was
  // acknowledged since, while a flush per delivered request would cost more CPU than the
  // collection itself. The directory only once, for the new name.
  const auto now = std::chrono::steady_clock::now();
  const bool sync = options_.fsync && now - last_ack_sync_ >= kAckSyncInterval;
  if (!PwriteAll(ack_fd_.get(), slot, sizeof slot, ack_slot_ * kAckBytes) ||
      (sync && ::fdatasync(ack_fd_.get()) != 0)) {
    // The same slot is written next time, so the other one keeps the last good ack.
    return Error{ErrnoText("cannot write", path, errno)};
  }
  ack_slot_ = 1 - ack_slot_;
  if (sync) {
    if (ack_dir_sync_pending_) {
      SyncDir(options_.dir);
      ack_dir_sync_pending_ = false;
    }
    last_ack_sync_ = now;
  }
  return Status::Ok();
}

Status Wal::StartSegment(std::uint64_t base_seq) {
  Segment segment;
  segment.base_seq = base_seq;
  segment.path = SegmentPath(base_seq);
  UniqueFd fd(OpenPrivate(segment.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND));
  if (!fd.valid()) {
    return Error{ErrnoText("cannot create", segment.path, errno)};
  }
  char header[kSegmentHeaderBytes];
  std::memcpy(header, kSegmentMagic, sizeof kSegmentMagic);
  Put<std::uint64_t>(header + 8, base_seq);
  if (!WriteAll(fd.get(), header, sizeof header) ||
      (options_.fsync && ::fdatasync(fd.get()) != 0)) {
    const int err = errno;
    fd.reset();
    ::unlink(segment.path.c_str());
    return Error{ErrnoText("cannot write", segment.path, err)};
  }
  if (options_.fsync) {
    SyncDir(options_.dir);  // the new name must survive a power loss too
  }
  segment.size = kSegmentHeaderBytes;
  if (segments_.empty()) {
    read_segment_ = 0;
    read_offset_ = kSegmentHeaderBytes;
    read_records_in_segment_ = 0;
    read_samples_in_segment_ = 0;
    read_fd_.reset();
  }
  segments_.push_back(std::move(segment));
  disk_bytes_ += kSegmentHeaderBytes;
  write_fd_ = std::move(fd);
  active_ = true;
  return Status::Ok();
}

void Wal::CloseActive() {
  if (unsynced_ && write_fd_.valid()) {  // a group of appends spans two segments
    (void)::fdatasync(write_fd_.get());
  }
  unsynced_ = false;
  write_fd_.reset();
  active_ = false;
}

void Wal::EvictFront() {
  Segment& front = segments_.front();
  std::uint64_t lost_records = 0;
  std::uint64_t lost_samples = 0;
  if (read_segment_ == 0) {
    lost_records = front.records - read_records_in_segment_;
    lost_samples = front.samples - read_samples_in_segment_;
  }
  if (segments_.size() == 1 && active_) {
    CloseActive();
  }
  ::unlink(front.path.c_str());
  disk_bytes_ -= front.size;
  unread_records_ -= lost_records;
  unread_samples_ -= lost_samples;
  evicted_samples_ += lost_samples;
  ++evicted_segments_;
  // The first eviction and then every 64th, so a long outage logs a line now and then.
  if (evicted_segments_ % 64 == 1) {
    spdlog::warn(
        "queue {}: disk cap of {} bytes reached; deleting the oldest data ({} unsent samples so "
        "far in {} segments)",
        options_.dir, options_.max_bytes, evicted_samples_, evicted_segments_);
  }
  while (!recent_.empty() && recent_.front().segment_base == front.base_seq) {
    recent_bytes_ -= recent_.front().payload.size();
    recent_.pop_front();
  }
  segments_.pop_front();
  if (read_segment_ == 0) {
    read_fd_.reset();
    read_records_in_segment_ = 0;
    read_samples_in_segment_ = 0;
    read_offset_ = segments_.empty() ? kSegmentHeaderBytes : segments_.front().first_offset;
  } else {
    --read_segment_;
  }
}

Status Wal::Append(const WalRecordInfo& info, std::string_view payload, bool more_follow) {
  const std::uint64_t record_bytes = kRecordHeaderBytes + payload.size();
  if (payload.size() > kMaxPayloadBytes ||
      record_bytes + kSegmentHeaderBytes > options_.max_bytes) {
    evicted_samples_ += info.samples;
    spdlog::warn("queue {}: a batch of {} bytes is larger than the disk cap; dropped", options_.dir,
                 record_bytes);
    return Status::Ok();
  }
  if (active_ && segments_.back().size > kSegmentHeaderBytes &&
      segments_.back().size + record_bytes > options_.segment_bytes) {
    CloseActive();
  }
  while (!segments_.empty() &&
         disk_bytes_ + record_bytes + (active_ ? 0 : kSegmentHeaderBytes) > options_.max_bytes) {
    EvictFront();
  }
  if (!active_) {
    if (Status status = StartSegment(info.seq); !status) {
      return status;
    }
  }
  Segment& segment = segments_.back();
  char header[kRecordHeaderBytes];
  EncodeRecordHeader(info, payload, header);
  iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  const auto now = std::chrono::steady_clock::now();
  const bool sync = options_.fsync && !more_follow &&
                    (options_.fsync_interval.count() <= 0 || !last_append_sync_ ||
                     now - *last_append_sync_ >= options_.fsync_interval);
  if (!WritevAll(write_fd_.get(), iov, 2) || (sync && ::fdatasync(write_fd_.get()) != 0)) {
    const int err = errno;
    // Leave no partial record behind; if even that fails, a new segment starts next time
    // and recovery cuts the torn bytes.
    if (::ftruncate(write_fd_.get(), static_cast<off_t>(segment.size)) != 0) {
      CloseActive();
    }
    return Error{ErrnoText("cannot append to", segment.path, err)};
  }
  if (sync) {
    last_append_sync_ = now;
    unsynced_ = false;
  } else if (more_follow && options_.fsync) {
    unsynced_ = true;
  }
  KeepRecent(segment.base_seq, segment.size, info, payload);  // before unread_records_ counts it
  segment.size += record_bytes;
  segment.records += 1;
  segment.samples += info.samples;
  segment.last_seq = info.seq;
  disk_bytes_ += record_bytes;
  unread_records_ += 1;
  unread_samples_ += info.samples;
  last_seq_ = info.seq;
  return Status::Ok();
}

void Wal::KeepRecent(std::uint64_t segment_base, std::uint64_t offset, const WalRecordInfo& info,
                     std::string_view payload) noexcept {
  // Worth keeping only while every unread record is kept too, so that the reader, whenever
  // it comes, finds them all here. A backlog larger than the bound (a receiver outage) is
  // read from disk anyway; its newest records would only sit in memory until it drained.
  // Then nothing is kept until the reader has caught up.
  const bool reader_follows = recent_.size() == unread_records_;
  if (!reader_follows || recent_bytes_ + payload.size() > options_.recent_payload_bytes) {
    recent_.clear();
    recent_bytes_ = 0;
    return;
  }
  try {
    WalRecordInfo kept = info;
    kept.payload_bytes = static_cast<std::uint32_t>(payload.size());
    recent_.push_back(RecentRecord{segment_base, offset, kept, std::string(payload)});
    recent_bytes_ += payload.size();
  } catch (const std::bad_alloc&) {
    // The record is on disk; the reader reads it from there.
  }
}

Wal::RecentRecord* Wal::RecentAtReader() {
  const std::uint64_t base = segments_[read_segment_].base_seq;
  // Segments are ordered by base_seq and the reader only moves forward, so what lies before
  // it was read from disk, skipped or deleted, and is never wanted again.
  while (!recent_.empty() &&
         (recent_.front().segment_base < base ||
          (recent_.front().segment_base == base && recent_.front().offset < read_offset_))) {
    recent_bytes_ -= recent_.front().payload.size();
    recent_.pop_front();
  }
  if (recent_.empty() || recent_.front().segment_base != base ||
      recent_.front().offset != read_offset_) {
    return nullptr;
  }
  return &recent_.front();
}

void Wal::ForfeitUnreadInSegment() {
  Segment& segment = segments_[read_segment_];
  // Records counted in this segment that the reader got past without reading were found
  // corrupt after recovery: they are lost, and must stop counting as queued.
  const std::uint64_t lost_records = segment.records - read_records_in_segment_;
  const std::uint64_t lost_samples = segment.samples - read_samples_in_segment_;
  if (lost_records > 0) {
    unread_records_ -= lost_records;
    unread_samples_ -= lost_samples;
    corrupt_samples_ += lost_samples;
    segment.records = read_records_in_segment_;
    segment.samples = read_samples_in_segment_;
  }
}

void Wal::AdvanceReaderSegment() {
  ForfeitUnreadInSegment();
  ++read_segment_;
  read_fd_.reset();
  read_records_in_segment_ = 0;
  read_samples_in_segment_ = 0;
  read_offset_ = segments_[read_segment_].first_offset;
}

bool Wal::SettleReader() {
  while (!segments_.empty()) {
    const Segment& segment = segments_[read_segment_];
    for (const auto& [from, to] : segment.holes) {
      if (read_offset_ == from) {
        read_offset_ = to;
      }
    }
    if (read_offset_ < segment.size) {
      if (!read_fd_.valid()) {
        read_fd_.reset(OpenPrivate(segment.path, O_RDONLY));
      }
      if (read_fd_.valid()) {
        return true;
      }
      spdlog::warn("queue {}: cannot open {}: {}", options_.dir, segment.path,
                   std::strerror(errno));
      ++corrupt_records_;
      read_offset_ = segment.size;
    }
    if (read_segment_ + 1 >= segments_.size()) {
      ForfeitUnreadInSegment();
      return false;
    }
    AdvanceReaderSegment();
  }
  return false;
}

std::optional<WalRecordInfo> Wal::PeekNext() {
  while (SettleReader()) {
    const Segment& segment = segments_[read_segment_];
    if (const RecentRecord* recent = RecentAtReader()) {
      return recent->info;
    }
    if (peeked_.valid && peeked_.segment_base == segment.base_seq &&
        peeked_.offset == read_offset_) {
      return DecodeRecordHeader(peeked_.bytes);
    }
    if (segment.size - read_offset_ >= kRecordHeaderBytes &&
        ReadDisk(read_fd_.get(), peeked_.bytes, kRecordHeaderBytes, read_offset_) &&
        Get<std::uint32_t>(peeked_.bytes) == kRecordMagic) {
      // The checksum is checked by ReadNext; a peek only needs the header fields.
      peeked_.valid = true;
      peeked_.segment_base = segment.base_seq;
      peeked_.offset = read_offset_;
      return DecodeRecordHeader(peeked_.bytes);
    }
    peeked_.valid = false;
    ++corrupt_records_;
    read_offset_ = Resync(read_fd_.get(), read_offset_, segment.size);
  }
  return std::nullopt;
}

bool Wal::ReadNext(WalRecord& out) {
  while (SettleReader()) {
    Segment& segment = segments_[read_segment_];
    std::uint64_t next = 0;
    ReadStatus status = ReadStatus::kOk;
    if (RecentRecord* recent = RecentAtReader()) {
      out.info = recent->info;
      out.payload = std::move(recent->payload);
      recent_bytes_ -= out.payload.size();
      recent_.pop_front();
      next = read_offset_ + kRecordHeaderBytes + out.info.payload_bytes;
      ++memory_reads_;
    } else {
      const bool peeked = peeked_.valid && peeked_.segment_base == segment.base_seq &&
                          peeked_.offset == read_offset_;
      status = ReadRecordAt(read_fd_.get(), read_offset_, segment.size, out.info, &out.payload,
                            next, peeked ? peeked_.bytes : nullptr);
    }
    peeked_.valid = false;
    if (status == ReadStatus::kOk) {
      read_offset_ = next;
      if (out.info.seq <= acked_seq_) {
        continue;
      }
      ++read_records_in_segment_;
      read_samples_in_segment_ += out.info.samples;
      --unread_records_;
      unread_samples_ -= out.info.samples;
      return true;
    }
    // Corruption that appeared after recovery (recovery left only valid records and holes).
    ++corrupt_records_;
    spdlog::warn("queue {}: corrupt record in {} at offset {}; skipping to the next valid one",
                 options_.dir, segment.path, read_offset_);
    read_offset_ = Resync(read_fd_.get(), read_offset_, segment.size);
  }
  return false;
}

void Wal::DeleteDeliveredSegments() {
  while (read_segment_ > 0 && segments_.front().last_seq <= acked_seq_) {
    ::unlink(segments_.front().path.c_str());
    disk_bytes_ -= segments_.front().size;
    segments_.pop_front();
    --read_segment_;
  }
}

Status Wal::Ack(std::uint64_t seq) {
  if (seq <= acked_seq_) {
    return Status::Ok();
  }
  acked_seq_ = seq;
  Status status = WriteAckFile(seq);
  // Move the reader off a finished, closed segment so that it can be deleted.
  if (!segments_.empty() && read_segment_ + 1 < segments_.size() &&
      read_offset_ >= segments_[read_segment_].size) {
    AdvanceReaderSegment();
  }
  DeleteDeliveredSegments();
  return status;
}

}  // namespace metricsd::queue
